// Rank script for the launcher's signal tests (no tfjs). Prints {"pid"} once ready, then waits.
// argv[2]: 'wait' (default signal handling), 'ignore-term' (ignores SIGTERM, like a rank stuck
// in a collective), 'usr1' (on SIGUSR1 rank 1 exits with code 7 at once, the others 300 ms
// later with code 2, as ranks do when a peer dies).
const mode = process.argv[2];
const rank = Number(process.env.RANK);
if (mode === 'ignore-term') process.on('SIGTERM', () => console.log(JSON.stringify({ignored: 'SIGTERM'})));
if (mode === 'usr1') {
  process.on('SIGUSR1', () => {
    if (rank === 1) process.exit(7);
    setTimeout(() => process.exit(2), 300);
  });
}
setInterval(() => {}, 1000);
console.log(JSON.stringify({pid: process.pid}));
