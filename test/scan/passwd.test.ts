import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd, supplementaryGroups } from '../../src/scan/passwd.js';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\r
resonix:x:998:998::/var/lib/resonix:/usr/sbin/nologin
+nisuser::::::
broken line without colons
bob:x:notanumber:1001::/home/bob:/bin/sh
carol:x:1002:1002::/home/carol

nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
short:x:1003:1003
`;

const GROUP = `root:x:0:
alice:x:1000:
resonix:x:998:alice
docker:x:999:alice, bob ,
users:x:100:carol,alice
# comment
bad:x:gid:alice
wheel:x:10:
`;

describe('parsePasswd', () => {
  it('reads accounts and skips comments, NIS and garbage lines', () => {
    expect(parsePasswd(PASSWD)).toEqual([
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin' },
      { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
      { name: 'resonix', uid: 998, gid: 998, home: '/var/lib/resonix' },
      { name: 'carol', uid: 1002, gid: 1002, home: '/home/carol' },
      { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' },
    ]);
  });
});

describe('parseGroup', () => {
  it('reads groups and their members', () => {
    expect(parseGroup(GROUP)).toEqual([
      { name: 'root', gid: 0, members: [] },
      { name: 'alice', gid: 1000, members: [] },
      { name: 'resonix', gid: 998, members: ['alice'] },
      { name: 'docker', gid: 999, members: ['alice', 'bob'] },
      { name: 'users', gid: 100, members: ['carol', 'alice'] },
      { name: 'wheel', gid: 10, members: [] },
    ]);
  });
});

describe('supplementaryGroups', () => {
  it('lists the gids of groups naming the user, sorted, without the primary group', () => {
    const groups = parseGroup(`${GROUP}alice2:x:1000:alice\n`);
    expect(supplementaryGroups('alice', 1000, groups)).toEqual([100, 998, 999]);
    expect(supplementaryGroups('nobody', 65534, groups)).toEqual([]);
  });
});

describe('garbage', () => {
  it('never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (text) => {
        parsePasswd(text);
        parseGroup(text);
      }),
      { numRuns: 300 },
    );
  });
});
