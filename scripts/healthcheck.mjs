#!/usr/bin/env node
// Container healthcheck for the tskube images (which have neither curl nor wget):
//
//   node /app/scripts/healthcheck.mjs URL [TIMEOUT_MS]
//
// GETs URL (http or https; the apiserver's self-signed chain is not verified, the check
// only asks whether the process answers) and exits 0 on HTTP 200, 1 otherwise, printing
// the status or error for `docker inspect --format '{{json .State.Health}}'`.
import http from 'node:http';
import https from 'node:https';

const [url, timeoutArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: healthcheck.mjs URL [TIMEOUT_MS]');
  process.exit(2);
}
const timeout = Number(timeoutArg ?? 3000);
const client = url.startsWith('https:') ? https : http;

const req = client.get(url, { rejectUnauthorized: false, timeout }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { if (body.length < 512) body += d; });
  res.on('end', () => {
    console.log(`${res.statusCode} ${body.trim().slice(0, 200)}`);
    process.exit(res.statusCode === 200 ? 0 : 1);
  });
});
req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
req.on('error', (err) => {
  console.log(`unhealthy: ${err.message}`);
  process.exit(1);
});
