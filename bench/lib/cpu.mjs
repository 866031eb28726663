// CPU time a process (and its threads) spent, from /proc: to report CPU per request.
import { readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** utime + stime of `pid` in milliseconds. */
export function cpuMillis(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] and fields[12] are utime and stime (the 14th and 15th of the whole line).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC;
}

/** Runs `work` and returns [its result, CPU ms `pid` spent meanwhile]. */
export async function withCpu(pid, work) {
  const before = cpuMillis(pid);
  const result = await work();
  return [result, cpuMillis(pid) - before];
}
