// payctl access review: runbook 003's monthly review of who can do what. Every operator with role, MFA,
// last login, days since last use and disabled; flags accounts unused over 90 days and admins without
// MFA. In process against the database or over --url; tables for people, --json for scripts. Exit 0
// either way: the flags are findings for a person to act on, not errors.
import type { Command } from 'commander';
import type { OperatorSecurity } from '../modules/operators/operator-security.js';
import { type Globals, inProcess, remoteClient } from './context.js';
import { printJson, printTable } from './output.js';

type AccessRow = Awaited<ReturnType<OperatorSecurity['accessReview']>>[number];

export function registerAccessCommands(program: Command, globals: () => Globals): void {
  const access = program.command('access').description('Operator access');
  access
    .command('review')
    .description('Every operator: role, MFA, last login, days since last use, disabled, and findings')
    .action(async () => {
      const g = globals();
      const rows = g.url
        ? (await remoteClient(g).request<{ data: AccessRow[] }>('GET', '/admin/access_review')).data
        : await inProcess(g.config, ({ services }) => services.operatorSecurity.accessReview());
      if (g.json) {
        printJson(rows);
        return;
      }
      printTable(
        rows.map((row) => ({
          ...row,
          last_login_at: row.last_login_at ? new Date(row.last_login_at * 1000).toISOString() : null,
        })),
        ['id', 'email', 'role', 'mfa_enrolled', 'last_login_at', 'days_since_last_use', 'disabled', 'flags'],
      );
      const flagged = rows.filter((row) => row.flags.length > 0);
      process.stdout.write(
        `\n${rows.length} operators, ${flagged.length} need attention` +
          (flagged.length > 0
            ? ` (${flagged.map((row) => `${row.email}: ${row.flags.join(', ')}`).join('; ')})`
            : '') +
          '\n',
      );
    });
}
