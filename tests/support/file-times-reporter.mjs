// A node:test reporter for scripts/test.sh's time table: one line per test file, "seconds<TAB>
// pass|FAIL<TAB>file", from the file's own completion event (its wall time, imports and
// before/after hooks included). E2E_FILE_TAG (e.g. "legacy") is appended to the file name.
import { relative, sep } from 'node:path';

/** The event of a whole file is named after it (as given on the command line). */
const isFile = (file, name) => file === name || file.endsWith(`${sep}${name}`);

export default async function* fileTimes(source) {
  const failed = new Set();
  const tag = process.env.E2E_FILE_TAG ? ` (${process.env.E2E_FILE_TAG})` : '';
  for await (const event of source) {
    const { file, name, details } = event.data ?? {};
    if (!file) continue;
    if (event.type === 'test:fail') failed.add(file);
    if (event.type === 'test:complete' && isFile(file, name) && details?.duration_ms !== undefined) {
      const seconds = (details.duration_ms / 1000).toFixed(1);
      yield `${seconds}\t${failed.has(file) || details.passed === false ? 'FAIL' : 'pass'}\t${relative(process.cwd(), file)}${tag}\n`;
    }
  }
}
