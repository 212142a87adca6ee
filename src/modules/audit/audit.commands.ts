// payctl audit verify | publish-head: in process against the configured database and AUDIT_HEAD_DIR, or
// over --url against a running service. verify exits 1 when the chain is broken anywhere.
import path from 'node:path';
import type { Command } from 'commander';
import { type Globals, inProcess, remoteClient, UsageError } from '../../cli/context.js';
import { printJson } from '../../cli/output.js';
import { formatAuditChainReport } from './audit.report.js';
import type { AuditChainReport } from './audit-chain.verify.js';
import { type PublishedHead, readPublishedHeads } from './audit-head.js';

export function registerAuditCommands(program: Command, globals: () => Globals): void {
  const audit = program.command('audit').description('The audit trail: hash chain verification');
  audit
    .command('verify')
    .description(
      'Check every audit row against its hash and its predecessor, and every published head; exit 1 on any failure',
    )
    .option(
      '--heads-file <path>',
      'published heads to check against (default: AUDIT_HEAD_DIR/audit-chain-heads.jsonl)',
    )
    .action(async (options: { headsFile?: string }) => {
      const g = globals();
      if (g.url && options.headsFile) {
        throw new UsageError(
          '--heads-file: only in process; a running service checks its own AUDIT_HEAD_DIR',
        );
      }
      const published = options.headsFile ? readPublishedHeads(path.resolve(options.headsFile)) : undefined;
      const report = g.url
        ? await remoteClient(g).request<AuditChainReport>('GET', '/admin/audit/verify')
        : await inProcess(g.config, (service) => service.services.audit.verify(published));
      if (g.json) printJson(report);
      else process.stdout.write(formatAuditChainReport(report));
      if (!report.ok) process.exitCode = 1;
    });
  audit
    .command('publish-head')
    .description('Publish the chain head now (heads file, log line, metric); the hourly job does it too')
    .action(async () => {
      const g = globals();
      const head = g.url
        ? await remoteClient(g).request<PublishedHead>('POST', '/admin/audit/head/publish')
        : await inProcess(g.config, (service) => service.services.audit.publishHead());
      if (g.json) printJson(head);
      else process.stdout.write(`audit chain head published: seq ${head.seq} ${head.hash}\n`);
    });
}
