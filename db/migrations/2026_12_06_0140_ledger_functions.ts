import { type Kysely, sql } from 'kysely';

/**
 * `reserve` and `settle` (db/ledger.ts) as database functions: the same statements in the same
 * order under the same account lock, run as one statement (its own transaction) instead of five and
 * six round trips (BEGIN, lock, …, COMMIT). They run on every message, so the round trips were a
 * fifth of the worker's database work (issue 9, bench/results/README.md). PL/pgSQL runs each
 * statement on a fresh READ COMMITTED snapshot, as the statements of the old transaction did, so a
 * concurrent move that waited on the lock sees what the one before it committed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Outcome: 'reserved' | 'already_done' | 'insufficient_funds' | 'account_not_found'.
  await sql`
    create function herald_reserve(p_account text, p_message text, p_leg smallint, p_amount bigint)
    returns text language plpgsql as $$
    declare
      acct record;
      entry_id bigint;
    begin
      select available_micros, reserved_micros into acct from accounts where id = p_account for update;
      if not found then return 'account_not_found'; end if;
      if p_amount = 0 then return 'reserved'; end if;
      if acct.available_micros < p_amount then
        perform 1 from ledger_entries
          where message_id = p_message and leg = p_leg and kind = 'reserve';
        if found then return 'already_done'; end if;
        return 'insufficient_funds';
      end if;
      insert into ledger_entries
        (account_id, message_id, leg, kind, amount_micros, available_after_micros, reserved_after_micros)
        values (p_account, p_message, p_leg, 'reserve', p_amount,
                acct.available_micros - p_amount, acct.reserved_micros + p_amount)
        on conflict do nothing
        returning id into entry_id;
      if entry_id is null then return 'already_done'; end if;
      update accounts
        set available_micros = available_micros - p_amount, reserved_micros = reserved_micros + p_amount
        where id = p_account and available_micros >= p_amount;
      -- Cannot happen under the lock; raising rolls the ledger row back if it ever does.
      if not found then raise exception 'reserve: balance of % changed under lock', p_account; end if;
      return 'reserved';
    end $$`.execute(db);

  await sql`
    create function herald_settle(
      p_account text, p_message text, p_leg smallint, p_capture bigint,
      out captured bigint, out released bigint, out already_done boolean)
    language plpgsql as $$
    declare
      acct record;
      entries int;
      reserved bigint;
      prior_capture bigint;
      prior_release bigint;
    begin
      captured := 0; released := 0; already_done := false;
      select available_micros, reserved_micros into acct from accounts where id = p_account for update;
      if not found then return; end if;
      select count(*),
             max(amount_micros) filter (where kind = 'reserve'),
             max(amount_micros) filter (where kind = 'capture'),
             max(amount_micros) filter (where kind = 'release')
        into entries, reserved, prior_capture, prior_release
        from ledger_entries
        where message_id = p_message and account_id = p_account and leg = p_leg
          and kind in ('reserve', 'capture', 'release');
      if reserved is null then return; end if;
      if entries > 1 then
        captured := coalesce(prior_capture, 0); released := coalesce(prior_release, 0); already_done := true;
        return;
      end if;
      captured := least(p_capture, reserved);
      released := reserved - captured;
      -- Capture first, release second: the capture row shows the balance between the two.
      if captured > 0 then
        insert into ledger_entries
          (account_id, message_id, leg, kind, amount_micros, available_after_micros, reserved_after_micros)
          values (p_account, p_message, p_leg, 'capture', captured,
                  acct.available_micros, acct.reserved_micros - captured);
      end if;
      if released > 0 then
        insert into ledger_entries
          (account_id, message_id, leg, kind, amount_micros, available_after_micros, reserved_after_micros)
          values (p_account, p_message, p_leg, 'release', released,
                  acct.available_micros + released, acct.reserved_micros - reserved);
      end if;
      update accounts
        set reserved_micros = reserved_micros - reserved, available_micros = available_micros + released
        where id = p_account;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function herald_settle(text, text, smallint, bigint)`.execute(db);
  await sql`drop function herald_reserve(text, text, smallint, bigint)`.execute(db);
}
