// prepack: build dist from nothing, so a file whose source was deleted is never packed.
import fs from 'node:fs';

fs.rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
