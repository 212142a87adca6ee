import { type Kysely, sql } from 'kysely';

// PayPal payment methods (DESIGN section 6: PayPal as a redirect wallet). A PayPal payment method has no
// card: its card columns are null and what PayPal tells us of the payer once they approve (email, payer
// id, country) is kept in `paypal`. A card row must still have every card column (the check below).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table payment_methods drop constraint payment_methods_type_check;
    alter table payment_methods add constraint payment_methods_type_check check (type in ('card', 'paypal'));
    alter table payment_methods
      alter column card_brand drop not null,
      alter column card_last4 drop not null,
      alter column card_exp_month drop not null,
      alter column card_exp_year drop not null,
      alter column card_fingerprint drop not null,
      alter column card_fingerprint_key drop not null,
      alter column card_funding drop not null,
      add column paypal jsonb;
    alter table payment_methods add constraint payment_methods_card_complete check (
      type <> 'card' or (
        card_brand is not null and card_last4 is not null and card_exp_month is not null
        and card_exp_year is not null and card_fingerprint is not null
        and card_fingerprint_key is not null and card_funding is not null
      )
    );
  `.execute(db);
}
