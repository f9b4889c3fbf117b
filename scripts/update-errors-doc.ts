// npm run docs:errors — regenerates docs/errors.md from the code catalogue in src/codes/.
import { writeFile } from 'node:fs/promises';
import { errorsDoc } from './errors-doc.js';

await writeFile(new URL('../docs/errors.md', import.meta.url), errorsDoc());
