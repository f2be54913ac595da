import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/symlink-escape.js';
import { entries, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const withLinks = (links: [string, string, boolean?][]) =>
  install(undefined, [], {
    inventory: {
      root: '/home/alice/.resonix',
      exists: true,
      entries: [...entries(['resonix.json']), ...links.map(([path, target, broken]) => ({ path, type: 'symlink' as const, mode: 0o777, uid: 1000, gid: 1000, size: target.length, mtimeMs: 0, linkTarget: target, ...(broken ? { linkBroken: true } : {}) }))],
    },
  });

ruleCases(rule, {
  fires: [
    {
      name: "a credentials link into the old machine's home, now broken",
      machine: machine([home([withLinks([['credentials', '/Users/alice/secrets/resonix-credentials', true]])])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toContain('(broken)'),
    },
    { name: 'a link out of the state dir', machine: machine([home([withLinks([['.env', '/etc/resonix.env']])])]) },
    { name: 'a broken link inside', machine: machine([home([withLinks([['media/latest', 'inbound/gone.png', true]])])]) },
  ],
  passes: [
    { name: 'plugin-skills links into the npm prefix (rebuilt by Resonix)', machine: machine([home([withLinks([['plugin-skills/canvas', '/opt/resonix-prefix/lib/node_modules/resonix/dist/extensions/canvas/skills/canvas']])])]) },
    { name: 'a relative link that stays inside', machine: machine([home([withLinks([['media/latest', 'inbound/a.png']])])]) },
  ],
});
