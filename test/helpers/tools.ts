// Whether an external program the tests drive is on PATH (CI installs them: .ci/run).
import { spawnSync } from 'node:child_process';

export const hasTool = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
