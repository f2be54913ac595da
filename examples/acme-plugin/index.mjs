// An example resonix-migrate plugin: one rule, with the same shape as the built-in ones.
// Load it from this tool's config: { "plugins": ["./examples/acme-plugin/index.mjs"] }.

/** @typedef {import('resonix-migrate').Rule} Rule */

const LIMIT = 50 * 1024 * 1024;

/** @type {Rule} */
const largeMedia = {
  meta: {
    id: 'acme/large-media',
    title: 'Large media files make the backup slow',
    severity: 'warning',
    phases: ['audit'],
    description: 'Lists media files over 50 MB in the state dir (media/ is a short-lived cache).',
    why: 'A backup that carries gigabytes of cached media is slow to make, to encrypt and to copy.',
    fix: 'Clear the media cache before the backup, or leave media/ out of it.',
  },
  check({ machine }) {
    const reports = [];
    for (const home of machine.homes) {
      for (const install of home.installs) {
        const large = install.inventory.entries.filter((entry) => entry.type === 'file' && entry.path.startsWith('media/') && entry.size > LIMIT);
        if (large.length === 0) continue;
        const total = large.reduce((sum, entry) => sum + entry.size, 0);
        reports.push({
          message: `${large.length} media files in ${install.stateDir} hold ${Math.round(total / 1024 / 1024)} MB: the backup will carry them.`,
          path: `${install.stateDir}/media`,
          install: install.id,
          evidence: large.slice(0, 5).map((entry) => `${entry.path} (${Math.round(entry.size / 1024 / 1024)} MB)`),
          fix: { summary: 'Leave the media cache out of the archive.', commands: [`tar -C ${home.path} --exclude='.resonix/media' -czf resonix.tgz .resonix`] },
        });
      }
    }
    return reports;
  },
};

export const name = 'acme';
export const rules = [largeMedia];
