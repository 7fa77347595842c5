#!/usr/bin/env python3
"""A msgflo participant in Python, written with the `msgflo` package from PyPI
(msgflo-python): upper-cases the text it gets.

    pip install -r examples/polyglot/requirements.txt
    MSGFLO_BROKER=mqtt://localhost python3 examples/polyglot/shout.py shout

It announces itself on the broker like any msgflo participant, so the msgflo-rs
coordinator (or msgflo-setup) wires it to Rust participants without knowing
what language it is written in. Its queues are msgflo-python's: `shout/in`
and `shout/out`. msgflo-python 0.4 runs on Python 3 over MQTT only (its AMQP
client, haigha, is Python 2 code) and needs paho-mqtt 1.x.
"""
import sys

import msgflo


class Shout(msgflo.Participant):
    def __init__(self, role):
        definition = {
            "component": "polyglot/Shout",
            "label": "Upper-cases text (Python)",
            "icon": "bullhorn",
            "inports": [{"id": "in", "type": "string"}],
            "outports": [{"id": "out", "type": "string"}],
        }
        msgflo.Participant.__init__(self, definition, role)

    def process(self, inport, msg):
        if not isinstance(msg.data, str):
            self.nack(msg)  # not text: dead-lettered
            return
        self.send("out", msg.data.upper() + "!")
        self.ack(msg)


if __name__ == "__main__":
    # msgflo.main() takes the role from argv[0] (the script's path) unless
    # it is given one: pass the first argument.
    msgflo.main(Shout, sys.argv[1] if len(sys.argv) > 1 else "shout")
