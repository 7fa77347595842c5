// The drivers' command loop: one JSON command per line on stdin, each
// answered with one JSON line on stdout, {"ok": ...} or {"error": "..."}
// (the error's first line), until stdin ends. `commands` maps each `cmd` to
// an async function of the command.
'use strict';

const readline = require('readline');

module.exports = async function answerCommands(commands) {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    let answer;
    try {
      const command = JSON.parse(line);
      const run = commands[command.cmd];
      if (!run) throw new Error(`unknown command ${command.cmd}`);
      answer = { ok: await run(command) };
    } catch (e) {
      answer = { error: String(e && e.message ? e.message : e).split('\n')[0] };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
};
