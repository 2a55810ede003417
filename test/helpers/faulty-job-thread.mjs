// A stand-in simulation thread for the JobThreadPool tests: answers like job-thread.ts, or dies as the job asks.
import { setImmediate, setTimeout } from 'node:timers';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', ({ seq, job, jobs }) => {
  if (jobs) {
    // A share of a batch: dies if any of its jobs asks to, else echoes each.
    if (jobs.some((j) => j.behaviour === 'exit')) process.exit(3);
    setTimeout(() => parentPort.postMessage({ seq, outcomes: jobs.map((j) => ({ result: JSON.stringify({ echo: j.value }), wallS: 0 })) }), 0);
    return;
  }
  switch (job.behaviour) {
    case 'throw-later':
      // Uncaught, outside any handler the thread could catch it in: the thread dies.
      setImmediate(() => {
        throw new Error('boom in the thread');
      });
      break;
    case 'exhaust-heap': {
      const hoard = [];
      for (;;) hoard.push(new Array(1 << 16).fill(seq));
    }
    case 'exit':
      process.exit(3);
      break;
    default:
      setTimeout(() => parentPort.postMessage({ seq, result: JSON.stringify({ echo: job.value }) }), job.delayMs ?? 0);
  }
});
