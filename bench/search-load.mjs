// Load generator for bench/search.ts, run in a worker thread so that parsing the responses does not share the
// server's event loop. workerData: { url, paths (or null), connections, duration }; posts back autocannon's result.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

const { url, paths, connections, duration } = workerData;
let i = 0;
const result = await autocannon({
  url,
  connections,
  duration,
  ...(paths ? { requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }] } : {}),
});
// Inside a worker thread autocannon returns raw counters (histograms encoded): requests per second from the totals.
const seconds = (Number(result.finish) - Number(result.start)) / 1000 || duration;
parentPort.postMessage({ rps: (result["2xx"] ?? 0) / seconds, completed: result.totalCompletedRequests, seconds, non2xx: result.non2xx, errors: result.errors });
