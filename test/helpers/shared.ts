// The project's shared references (../shared beside the checkout) are not in a clean clone, so CI would
// skip the tests that need them. Copies live in test/fixtures/shared: the tests read those, and
// test/shared-copies.test.ts fails when a copy no longer matches the original it was taken from.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export const SHARED_COPIES = path.join(REPO, 'test', 'fixtures', 'shared');
export const SHARED_ORIGINALS = path.join(REPO, '..', 'shared');
export const SARIF_SCHEMA = path.join(SHARED_COPIES, 'schemas', 'sarif-schema-2.1.0.json');
export const RULE_CATALOG = path.join(SHARED_COPIES, 'rule-catalog.md');
