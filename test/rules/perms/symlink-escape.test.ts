import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/symlink-escape.js';
import { entries, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const withLinks = (links: [string, string, boolean?][], files: string[] = []) =>
  install(undefined, [], {
    inventory: {
      root: '/home/alice/.resonix',
      exists: true,
      entries: [...entries(['resonix.json', ...files]), ...links.map(([path, target, broken]) => ({ path, type: 'symlink' as const, mode: 0o777, uid: 1000, gid: 1000, size: target.length, mtimeMs: 0, linkTarget: target, ...(broken ? { linkBroken: true } : {}) }))],
    },
  });

/** An archive's members: no linkBroken, nothing resolved on disk. */
const archived = (links: [string, string][], files: string[] = []) => machine([home([withLinks(links, files)])], { mode: 'image', root: '/backups/resonix.tgz' });

ruleCases(rule, {
  fires: [
    {
      name: "a credentials link into the old machine's home, now broken",
      machine: machine([home([withLinks([['credentials', '/Users/alice/secrets/resonix-credentials', true]])])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toContain('(broken)'),
    },
    { name: 'a link out of the state dir', machine: machine([home([withLinks([['.env', '/etc/resonix.env']])])]) },
    { name: 'a broken link inside', machine: machine([home([withLinks([['media/latest', 'inbound/gone.png', true]])])]) },
    {
      name: 'inspect: an archive member linking out of its state dir',
      phase: 'inspect',
      machine: archived([['credentials', '../secrets/credentials']]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('point outside it or to an absolute path');
        expect(reports[0]!.fix!.commands[0]).toContain('--dereference');
      },
    },
    {
      name: 'inspect: an archive member linking to an absolute path, even one that names the state dir itself',
      phase: 'inspect',
      machine: archived([['agents-link', '/home/alice/.resonix/agents']], ['agents/main/agent/auth-profiles.json']),
      expect: (reports) => expect(reports[0]!.evidence).toEqual(['/home/alice/.resonix/agents-link -> /home/alice/.resonix/agents (absolute)']),
    },
    {
      name: 'inspect: a relative link whose target the archive does not hold is broken',
      phase: 'inspect',
      machine: archived([['media/latest', 'inbound/gone.png']]),
      expect: (reports) => expect(reports[0]!.evidence).toEqual(['/home/alice/.resonix/media/latest -> inbound/gone.png (broken)']),
    },
  ],
  passes: [
    { name: 'plugin-skills links into the npm prefix (rebuilt by Resonix)', machine: machine([home([withLinks([['plugin-skills/canvas', '/opt/resonix-prefix/lib/node_modules/resonix/dist/extensions/canvas/skills/canvas']])])]) },
    { name: 'a relative link that stays inside', machine: machine([home([withLinks([['media/latest', 'inbound/a.png']])])]) },
    { name: 'inspect: a relative link to a member of the archive', phase: 'inspect', machine: archived([['media/latest', 'inbound/a.png']], ['media/inbound/a.png']) },
    { name: 'inspect: a link to a dir member, and one through a linked dir', phase: 'inspect', machine: archived([['ws', 'workspace'], ['soul', 'ws/SOUL.md']], ['workspace/']) },
    { name: 'inspect: plugin-skills links stay out of it in archives too', phase: 'inspect', machine: archived([['plugin-skills/canvas', '/usr/lib/node_modules/resonix/dist/extensions/canvas/skills/canvas']]) },
  ],
});
