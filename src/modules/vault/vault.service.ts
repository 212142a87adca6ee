// The card vault: the only place a full card number or CVC is kept, and only as envelope ciphertext
// (invariant 6). Cards are stored with their payment method, revealed to the provider connector at
// confirm time (counted in vault_decryptions_total, never logged), and fingerprinted with a separate,
// versioned HMAC key. CVCs are kept for at most an hour and deleted once the payment has a final
// authorization result (deleteCvc) or by the purge job when they expire.
//
// Fingerprints are per merchant, as Stripe's are per account: HMAC(fingerprint key, merchant id + PAN),
// so a merchant can tell its own customers' cards apart but fingerprints say nothing across merchants.
import type { Kysely, Transaction } from 'kysely';
import client from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Database } from '../../db/schema.js';
import type { Scope } from '../../http/expand.js';
import type { Logger } from '../../observability/logger.js';
import { Secret } from './secret.js';
import {
  computeFingerprint,
  type EntryContext,
  type EntryKind,
  open,
  seal,
  VaultDecryptionError,
} from './vault.crypto.js';
import { checkAgainst, checkValue, type Keyring, type VaultKeys } from './vault.keys.js';
import {
  type RotationOptions,
  type RotationReport,
  rotateVault,
  type VerifyReport,
  verifyVault,
} from './vault.maintenance.js';
import {
  deleteCard,
  deleteCvc,
  deleteExpiredCvcs,
  findCard,
  findCvc,
  insertCard,
  listKeyChecks,
  recordKeyCheck,
  upsertCvc,
} from './vault.repository.js';
import type { EnvelopeRow } from './vault.table.js';

type Executor = Kysely<Database> | Transaction<Database>;

export const CVC_MAX_TTL_SECONDS = 3600;

export interface CardSecret {
  number: Secret<string>;
}

export class VaultEntryMissingError extends Error {
  override name = 'VaultEntryMissingError';
}

export class VaultService {
  private readonly decryptions: client.Counter<'purpose'>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    readonly keys: VaultKeys,
    registry: client.Registry,
    private readonly logger: Logger,
  ) {
    this.decryptions = new client.Counter({
      name: 'vault_decryptions_total',
      help: 'Vault entries decrypted, by purpose (provider_confirm, verify, ...)',
      labelNames: ['purpose'],
      registers: [registry],
    });
  }

  /**
   * Checks `ring` (by default the loaded one) against the check values the database holds and records
   * new keys. A replica started with a different key under a known id refuses to start instead of
   * writing cards the others cannot read. Nothing is recorded unless every key passes.
   */
  async checkKeys(ring: Keyring = this.keys.keyring): Promise<void> {
    for (const row of await listKeyChecks(this.db)) this.keys.known.set(row.id, row.check_value);
    checkAgainst(ring, this.keys.known, this.keys.file);
    for (const kek of ring.keks) {
      if (this.keys.known.has(kek.id)) continue;
      const value = checkValue(kek);
      await recordKeyCheck(this.db, kek.id, value, this.clock.now());
      this.keys.known.set(kek.id, value);
    }
    // Another process may have recorded the same new id first, with its own key: check once more.
    for (const row of await listKeyChecks(this.db)) this.keys.known.set(row.id, row.check_value);
    checkAgainst(ring, this.keys.known, this.keys.file);
  }

  fingerprint(merchantId: string, number: Secret<string>): { value: string; keyId: string } {
    const key = this.keys.currentFingerprintKey();
    return { value: computeFingerprint(key, merchantId, number.reveal()), keyId: key.id };
  }

  /** Stores a card in the caller's transaction, so the card exists exactly when its payment method does. */
  async store(trx: Transaction<Database>, scope: Scope, paymentMethodId: string, card: CardSecret) {
    const kek = this.keys.currentKek();
    const plaintext = Buffer.from(JSON.stringify({ number: card.number.reveal() }));
    const envelope = seal(plaintext, kek, context(scope, paymentMethodId, 'card'));
    plaintext.fill(0);
    await insertCard(trx, {
      payment_method_id: paymentMethodId,
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      kek_id: envelope.kekId,
      wrapped_key: envelope.wrappedKey,
      ciphertext: envelope.ciphertext,
      created_at: this.clock.now(),
      rewrapped_at: null,
    });
  }

  /** The full card number, for the provider call that needs it. `purpose` labels the metric. */
  async reveal(scope: Scope, paymentMethodId: string, purpose: string): Promise<CardSecret> {
    const row = await findCard(this.db, scope, paymentMethodId);
    if (!row) throw new VaultEntryMissingError(`no vault entry for ${paymentMethodId}`);
    const plaintext = this.open(row, 'card');
    this.decryptions.inc({ purpose });
    const { number } = JSON.parse(plaintext.toString('utf8')) as { number: string };
    plaintext.fill(0);
    return { number: new Secret(number) };
  }

  async storeCvc(
    scope: Scope,
    paymentMethodId: string,
    cvc: Secret<string>,
    options: { executor?: Executor; ttlSeconds?: number } = {},
  ): Promise<void> {
    const ttl = Math.min(options.ttlSeconds ?? CVC_MAX_TTL_SECONDS, CVC_MAX_TTL_SECONDS);
    const now = this.clock.now();
    const envelope = seal(
      Buffer.from(cvc.reveal()),
      this.keys.currentKek(),
      context(scope, paymentMethodId, 'cvc'),
    );
    await upsertCvc(options.executor ?? this.db, {
      payment_method_id: paymentMethodId,
      merchant_id: scope.merchantId,
      livemode: scope.livemode,
      kek_id: envelope.kekId,
      wrapped_key: envelope.wrappedKey,
      ciphertext: envelope.ciphertext,
      created_at: now,
      expires_at: new Date(now.getTime() + ttl * 1000),
    });
  }

  /**
   * The CVC if one is held and unexpired (by the business clock), else null. It stays in the vault:
   * a fallback to another provider for the same payment may need it again.
   */
  async takeCvc(
    scope: Scope,
    paymentMethodId: string,
    purpose = 'provider_confirm',
  ): Promise<Secret<string> | null> {
    const row = await findCvc(this.db, scope, paymentMethodId);
    if (!row) return null;
    if (row.expires_at.getTime() <= this.clock.now().getTime()) {
      await deleteCvc(this.db, scope, paymentMethodId);
      return null;
    }
    const plaintext = this.open(row, 'cvc');
    this.decryptions.inc({ purpose });
    return new Secret(plaintext.toString('utf8'));
  }

  /**
   * Payments call this when the payment (not one attempt) reaches a final authorization result:
   * authorized, declined for good, or canceled. Returns whether a CVC was held.
   */
  async deleteCvc(scope: Scope, paymentMethodId: string, executor: Executor = this.db): Promise<boolean> {
    return deleteCvc(executor, scope, paymentMethodId);
  }

  /**
   * Forgets a card for good (a privacy erasure): its envelope and any CVC held are deleted in the
   * caller's transaction. The payment method keeps its display data; paying with it again finds no card.
   * Returns whether a card was held.
   */
  async deleteCard(scope: Scope, paymentMethodId: string, executor: Executor = this.db): Promise<boolean> {
    await deleteCvc(executor, scope, paymentMethodId);
    return deleteCard(executor, scope, paymentMethodId);
  }

  async purgeExpiredCvcs(now: Date = this.clock.now()): Promise<number> {
    const purged = await deleteExpiredCvcs(this.db, now);
    if (purged > 0) this.logger.info({ purged }, 'expired CVCs purged from the vault');
    return purged;
  }

  /** Re-wraps every data key under the current KEK (re-reading the keys file first); resumable. */
  async rotate(options: RotationOptions = {}): Promise<RotationReport> {
    const ring = this.keys.read();
    await this.checkKeys(ring);
    this.keys.accept(ring);
    return rotateVault({ db: this.db, keys: this.keys, clock: this.clock }, options);
  }

  /** Decrypts every entry and checks it against its payment method. */
  async verify(): Promise<VerifyReport> {
    this.keys.reload();
    return verifyVault({ db: this.db, keys: this.keys, clock: this.clock }, () =>
      this.decryptions.inc({ purpose: 'verify' }),
    );
  }

  private open(row: EnvelopeRow, kind: EntryKind): Buffer {
    const kek = this.keys.kek(row.kek_id);
    if (!kek) throw new VaultDecryptionError(`vault key ${row.kek_id} is not in ${this.keys.file}`);
    return open(
      { kekId: row.kek_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
      kek,
      context({ merchantId: row.merchant_id, livemode: row.livemode }, row.payment_method_id, kind),
    );
  }
}

export function context(scope: Scope, paymentMethodId: string, kind: EntryKind): EntryContext {
  return { merchantId: scope.merchantId, livemode: scope.livemode, paymentMethodId, kind };
}
