// npm run docs: writes resonix-migrate.schema.json (the config's JSON schema) from the built-in rules.
import fs from 'node:fs';
import { configSchemaText } from '../dist/config-schema.js';
import { builtinRules } from '../dist/rules/index.js';

fs.writeFileSync(new URL('../resonix-migrate.schema.json', import.meta.url), configSchemaText(builtinRules));
console.log(`wrote resonix-migrate.schema.json (${builtinRules.length} rules)`);
