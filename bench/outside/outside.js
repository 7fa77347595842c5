// The view from outside a msgflo-rs flow: a Node.js amqplib client, as a
// team's hand-written workers (and msgflo-nodejs) publish and consume:
// transient messages without publisher confirms, and a consumer with a
// prefetch that acks each message.
//
//   node outside.js measure URL INTO OUT N SIZE WINDOW PREFETCH
//     sends N messages of SIZE bytes to the queue INTO (default exchange)
//     and consumes them from the queue OUT, never more than WINDOW sent and
//     not yet out; prints msg/s. Fails if nothing comes out for 30 s.
//   node outside.js setup URL QUEUE [EXCHANGE]
//     declares the durable queue QUEUE, bound to the fanout EXCHANGE.
//   node outside.js teardown URL NAME...
//     deletes the queues and exchanges of those names.
//
// Run by bench/outside/run, which installs amqplib and starts the
// participant.
'use strict';
const amqp = require('amqplib');

const STALL_MS = 30000;

async function measure(url, into, out, n, size, window, prefetch) {
  if (!(n > 0) || !(size > 0) || !(window > 0) || !(prefetch > 0)) {
    throw new Error('N, SIZE, WINDOW and PREFETCH must be positive numbers');
  }
  const connection = await amqp.connect(url);
  const send = await connection.createChannel();
  const receive = await connection.createChannel();
  await receive.prefetch(prefetch);
  const body = Buffer.alloc(size, 'x');
  let received = 0;
  let sent = 0;
  let wake = null;
  let lastProgress = Date.now();
  let stalled = null;
  const done = new Promise((resolve, reject) => {
    stalled = setInterval(() => {
      if (Date.now() - lastProgress > STALL_MS) {
        reject(new Error(`stalled: ${received} of ${n} came out, then none for ${STALL_MS / 1000} s`));
      }
    }, 1000);
    receive.consume(out, (message) => {
      receive.ack(message);
      received += 1;
      lastProgress = Date.now();
      if (wake) { const w = wake; wake = null; w(); }
      if (received === n) resolve();
    });
  });
  const started = process.hrtime.bigint();
  try {
    while (sent < n) {
      if (sent - received >= window) {
        await Promise.race([new Promise((resolve) => { wake = resolve; }), done]);
        continue;
      }
      sent += 1;
      if (!send.sendToQueue(into, body, { persistent: false })) {
        await new Promise((resolve) => send.once('drain', resolve));
      }
    }
    await done;
  } finally {
    clearInterval(stalled);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(Math.round(n / seconds));
  await connection.close();
}

async function setup(url, queue, exchange) {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true });
  if (exchange) {
    await channel.checkExchange(exchange);
    await channel.bindQueue(queue, exchange, '');
  }
  await connection.close();
}

async function teardown(url, names) {
  const connection = await amqp.connect(url);
  connection.on('error', () => {});
  for (const name of names) {
    // A fresh channel each: a refusal closes the channel it came on.
    for (const remove of ['deleteQueue', 'deleteExchange']) {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      try {
        await channel[remove](name);
        await channel.close();
      } catch (error) {
        // Not there: nothing to delete.
      }
    }
  }
  await connection.close();
}

async function main() {
  const [command, url, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'measure': {
      const [into, out, ...numbers] = rest;
      const [n, size, window, prefetch] = numbers.map(Number);
      return measure(url, into, out, n, size, window, prefetch);
    }
    case 'setup':
      return setup(url, rest[0], rest[1]);
    case 'teardown':
      return teardown(url, rest);
    default:
      throw new Error('usage: node outside.js measure|setup|teardown URL ...');
  }
}

main().catch((error) => {
  console.error(`outside.js: ${error.message}`);
  process.exit(1);
});
