// The one `resonix …` prefix of fix commands: the profile flag, and RESONIX_STATE_DIR / RESONIX_CONFIG_PATH
// exactly when the install is not where that profile (or none) puts it in the home.
import { describe, expect, it } from 'vitest';
import { resonixCommand, serviceCommand } from '../../src/knowledge/command.js';
import { config, home, install, resolution, service } from '../helpers/machine.js';

const HOME = '/home/alice';

describe('resonixCommand', () => {
  it('says nothing more for the default state dir', () => {
    expect(resonixCommand(install(), HOME)).toBe('resonix');
    expect(resonixCommand({}, HOME)).toBe('resonix');
  });

  it('names a profile whose dir is ~/.resonix-<profile>', () => {
    expect(resonixCommand(install(`${HOME}/.resonix-work`, [], { profile: 'work' }), HOME)).toBe('resonix --profile work');
    expect(resonixCommand({ profile: 'work' })).toBe('resonix --profile work');
  });

  it('names a state dir the profile does not give: RESONIX_STATE_DIR wins over --profile', () => {
    expect(resonixCommand(install('/srv/resonix'), HOME)).toBe('RESONIX_STATE_DIR=/srv/resonix resonix');
    expect(resonixCommand(install('/mnt/old/.resonix-work', [], { profile: 'work' }), HOME)).toBe('RESONIX_STATE_DIR=/mnt/old/.resonix-work resonix --profile work');
    // the profile named in a unit, running the default dir (inherited env won over --profile)
    expect(resonixCommand({ profile: 'work', stateDir: `${HOME}/.resonix` }, HOME)).toBe(`RESONIX_STATE_DIR=${HOME}/.resonix resonix --profile work`);
    // a dir named like a profile in another home is no profile dir here
    expect(resonixCommand({ profile: 'work', stateDir: '/home/bob/.resonix-work' }, HOME)).toBe('RESONIX_STATE_DIR=/home/bob/.resonix-work resonix --profile work');
  });

  it("names a config that is not <state dir>/resonix.json", () => {
    const elsewhere = install(`${HOME}/.resonix`, [], { config: config({}, '/etc/resonix/resonix.json') });
    expect(resonixCommand(elsewhere, HOME)).toBe('RESONIX_CONFIG_PATH=/etc/resonix/resonix.json resonix');
    expect(resonixCommand({ stateDir: '/srv/r', configPath: '/srv/c.json' }, HOME)).toBe('RESONIX_STATE_DIR=/srv/r RESONIX_CONFIG_PATH=/srv/c.json resonix');
  });

  it("treats the 'default' profile as none", () => {
    expect(resonixCommand({ profile: 'default', stateDir: `${HOME}/.resonix` }, HOME)).toBe('resonix');
  });

  it('quotes what the shell would split or expand', () => {
    expect(resonixCommand({ stateDir: "/srv/alice's state" }, HOME)).toBe(`RESONIX_STATE_DIR='/srv/alice'\\''s state' resonix`);
  });

  it('says only the profile without a home or a state dir to judge by', () => {
    expect(resonixCommand({ profile: 'work', stateDir: '/srv/x' })).toBe('resonix --profile work');
    expect(resonixCommand({ profile: 'work' }, HOME)).toBe('resonix --profile work');
  });

  it('reads a Resolution (a unit or the CLI) as it reads an install', () => {
    expect(resonixCommand(resolution(HOME, '/opt/state'), HOME)).toBe('RESONIX_STATE_DIR=/opt/state resonix');
    expect(resonixCommand(resolution(HOME, `${HOME}/.resonix-work`, { profile: 'work', configPath: `${HOME}/.resonix-work/resonix.json` }), HOME)).toBe('resonix --profile work');
  });
});

describe('serviceCommand', () => {
  it('addresses the install the unit runs, under the profile the unit names', () => {
    const unit = service('/opt/state', { env: { HOME, RESONIX_STATE_DIR: '/opt/state', RESONIX_PROFILE: 'prod' }, resolution: resolution(HOME, '/opt/state', { profile: 'prod' }) });
    expect(serviceCommand(home([install('/opt/state')], { services: [unit] }), unit)).toBe('RESONIX_STATE_DIR=/opt/state resonix --profile prod');
  });

  it("takes the install's profile when the unit names none", () => {
    const unit = service(`${HOME}/.resonix-work`);
    expect(serviceCommand(home([install(`${HOME}/.resonix-work`, [], { profile: 'work' })], { services: [unit] }), unit)).toBe('resonix --profile work');
  });

  it("does not repeat a state dir that is no install here (the old machine's paths)", () => {
    const unit = service('/Users/alice/.resonix-work', { resolution: resolution('/Users/alice', '/Users/alice/.resonix-work', { profile: 'work' }) });
    expect(serviceCommand(home([install()], { services: [unit] }), unit)).toBe('resonix --profile work');
    const plain = service('/Users/alice/.resonix', { resolution: resolution('/Users/alice') });
    expect(serviceCommand(home([install('/home/alice/.resonix')], { services: [plain] }), plain)).toBe('resonix');
  });
});
