import { rule } from '../../../src/rules/version/layout-upgrade.js';
import { home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const fileBased = machine([home([install()])], { runtime: { resonixVersion: '2026.5.28' } });
const sqliteHere = install(undefined, ['resonix.json', 'state/resonix.sqlite', 'agents/main/agent/resonix-agent.sqlite'], { generation: 'sqlite' });

ruleCases(rule, {
  fires: [
    { name: 'file-based baseline, Resonix 2026.5.30 here', machine: machine([home([install()])], { runtime: { resonixVersion: '2026.5.30' } }), baseline: fileBased },
    { name: 'file-based baseline, 2026.10.1 here', machine: machine([home([install()])], { runtime: { resonixVersion: '2026.10.1' } }), baseline: fileBased },
    { name: 'file-based baseline, this install already SQLite (version unknown)', machine: machine([home([sqliteHere])]), baseline: fileBased },
  ],
  passes: [
    { name: 'no baseline', machine: machine([home([install()])], { runtime: { resonixVersion: '2026.9.6' } }) },
    { name: 'baseline already SQLite', machine: machine([home([sqliteHere])], { runtime: { resonixVersion: '2026.9.6' } }), baseline: machine([home([sqliteHere])]) },
    { name: 'still a file-layout build here', machine: machine([home([install()])], { runtime: { resonixVersion: '2026.5.28' } }), baseline: fileBased },
    { name: 'a pre-release of the first SQLite build', machine: machine([home([install()])], { runtime: { resonixVersion: '2026.5.30-beta.1' } }), baseline: fileBased },
    { name: 'version unknown, file layout here', machine: machine([home([install()])]), baseline: fileBased },
  ],
});
