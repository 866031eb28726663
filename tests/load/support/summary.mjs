// Prints the figures the load and fault tests appended to LOAD_REPORT, one line each.
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const loads = lines.filter((l) => l.requests !== undefined && l.kind === undefined);
if (loads.length > 0) {
  console.log('| test | target rate | achieved | seconds | requests | statuses | p50 ms | p99 ms | max ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const l of loads) {
    const statuses = Object.entries(l.statuses).map(([s, n]) => `${s}: ${n}`).join(', ');
    const extra = Object.entries(l).filter(([k]) => k.startsWith('p99_ms_')).map(([k, v]) => `${k.slice(7).replaceAll('_', ' ')} p99 ${v}`).join('; ');
    console.log(`| ${l.test}${extra ? ` (${extra})` : ''} | ${l.target_rate}/s | ${l.achieved_rate}/s | ${l.seconds} | ${l.requests} | ${statuses} | ${l.p50_ms} | ${l.p99_ms} | ${l.max_ms} |`);
  }
}
for (const l of lines.filter((l) => !loads.includes(l))) console.log(`${l.test}: ${JSON.stringify({ ...l, test: undefined })}`);
