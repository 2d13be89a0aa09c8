// Plain loopback TCP copy, the yardstick of the all-reduce bus bandwidth: argv[2] 'recv' listens
// on argv[3] and acknowledges each block of argv[4] bytes with one byte; 'send' connects and
// times argv[5] sends of argv[4] bytes after argv[6] warm-ups (default 1), printing the median ms.
const net = require('node:net');

const [role, portArg, sizeArg, itersArg, warmupArg] = process.argv.slice(2);
const port = Number(portArg), size = Number(sizeArg), iters = Number(itersArg || 3), warmups = Number(warmupArg || 1);
if (role === 'recv') {
  const server = net.createServer((s) => {
    let got = 0;
    s.on('data', (d) => {
      got += d.length;
      while (got >= size) { got -= size; s.write(Buffer.alloc(1)); }
    });
    s.on('close', () => server.close());
  });
  server.listen(port, '127.0.0.1', () => console.log('ready'));
} else {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  const block = Buffer.alloc(size, 7);
  const times = [];
  let t0 = 0n;
  const once = () => { t0 = process.hrtime.bigint(); s.write(block); };
  s.on('connect', once);
  s.on('data', (d) => {
    for (let i = 0; i < d.length; i++) {
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (times.length < warmups + iters) once();
      else {
        const timed = times.slice(warmups).sort((a, b) => a - b);
        console.log(JSON.stringify({ms: timed[timed.length >> 1]}));
        s.end();
      }
    }
  });
}
