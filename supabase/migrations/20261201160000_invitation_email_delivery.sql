-- Issue 17: invitation links go out by e-mail, and the invitation records how that went.
--
-- Delivery state lives on the invitation (one active send at a time):
--   delivery_status        null: never e-mailed (invitations made before this migration, or
--                          with e-mail switched off); queued: a send is due or under way;
--                          sent; failed (delivery_error says why).
--   delivery_key           the current send's idempotency key, `<invitation id>:<send number>`.
--                          Every retry of one send carries the same key, so a provider that
--                          received a send whose answer was lost does not deliver it twice; a
--                          resend asked for by an admin is a new send with a new key.
--   delivery_attempts      attempts of the current send; at most 5, then it stays failed.
--   delivery_next_attempt_at when the retry job may try again (null: it will not). Also the
--                          claim: whoever sends first pushes it past the send's time-out, so the
--                          job and a request never send the same key at once.
--
-- Only the service role writes these (through the functions below, called by the Workers); admins
-- read them through /rest/v1 like the other columns of their invitations.

create type public.invitation_delivery_status as enum ('queued', 'sent', 'failed');

alter table public.profile_invitations
  add column delivery_status public.invitation_delivery_status,
  add column delivery_key text,
  add column delivery_sends integer not null default 0 check (delivery_sends >= 0),
  add column delivery_attempts integer not null default 0 check (delivery_attempts >= 0),
  add column delivery_error text check (delivery_error is null or char_length(delivery_error) <= 500),
  add column delivery_next_attempt_at timestamptz,
  add column delivery_sent_at timestamptz,
  add column delivery_message_id text check (delivery_message_id is null or char_length(delivery_message_id) <= 200);

-- The retry job's queue: due, unfinished sends of pending invitations.
create index profile_invitations_delivery_due_idx
  on public.profile_invitations (delivery_next_attempt_at)
  where status = 'pending' and delivery_status in ('queued', 'failed');

grant select (delivery_status, delivery_attempts, delivery_error, delivery_next_attempt_at, delivery_sent_at)
  on public.profile_invitations to authenticated;

-- ---------------------------------------------------------------------------------------------
-- What an invitation e-mail needs besides the invitation: the current send's key, whose record
-- it claims and who invites. Service role only (it reads user_profiles of another user).
-- ---------------------------------------------------------------------------------------------
create function public.profile_invitation_mail_context(invitation public.profile_invitations)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'delivery_key', invitation.delivery_key,
    'profile', (select jsonb_build_object('first_name', p.first_name, 'last_name', p.last_name)
                  from public.profiles p where p.id = invitation.profile_id),
    'inviter', (select jsonb_build_object('email', u.email,
                                          'name', coalesce(u.display_name, u.full_name))
                  from public.user_profiles u where u.id = invitation.invited_by));
$$;

-- Starts a new send of `invitation` (queued, attempts reset, a new key) and claims it for
-- `p_claim_seconds`, the caller's time to send before the retry job may take over.
create function public.queue_profile_invitation_send(p_invitation_id uuid, p_claim_seconds integer)
returns public.profile_invitations
language sql
set search_path = ''
as $$
  update public.profile_invitations
     set delivery_status = 'queued',
         delivery_sends = delivery_sends + 1,
         delivery_key = id::text || ':' || (delivery_sends + 1)::text,
         delivery_attempts = 0,
         delivery_error = null,
         delivery_sent_at = null,
         delivery_message_id = null,
         delivery_next_attempt_at = now() + make_interval(secs => p_claim_seconds)
   where id = p_invitation_id
  returning *;
$$;

-- ---------------------------------------------------------------------------------------------
-- create_profile_invitation gains p_send_email: with it, the new invitation is queued for
-- e-mail in the same transaction, so a Worker that dies before sending leaves it to the retry
-- job rather than unsent and unnoticed. The body is otherwise 20261122003002's. Its answer
-- carries `mail` (profile_invitation_mail_context) when an e-mail is queued.
-- ---------------------------------------------------------------------------------------------
drop function public.create_profile_invitation(uuid, uuid, text, text, text, integer, boolean);

create function public.create_profile_invitation(
  p_admin uuid,
  p_profile_id uuid,
  p_token_hash text,
  p_email text default null,
  p_token_encrypted text default null,
  p_expires_in_days integer default null,
  p_replace boolean default false,
  p_send_email boolean default false,
  p_claim_seconds integer default 120
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  lifetime_days integer := coalesce(p_expires_in_days, 7);
  target public.profiles;
  invite_email text;
  active public.profile_invitations;
  created public.profile_invitations;
begin
  -- Before anything else, so a non-admin (or a blocked account) learns nothing about profiles.
  perform private.require_invitation_admin(p_admin);
  if lifetime_days not between 1 and 30 then
    raise exception using errcode = 'PT400', hint = 'invalid_expiry',
      message = format('expires_in_days must be between 1 and 30, not %s', lifetime_days);
  end if;

  select * into target from public.profiles where id = p_profile_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'profile_not_found',
      message = format('no profile %s', p_profile_id);
  end if;
  if target.user_id is not null then
    raise exception using errcode = 'PT409', hint = 'profile_already_linked',
      message = 'the profile already belongs to an account';
  end if;

  invite_email := lower(coalesce(nullif(btrim(p_email), ''), target.email));
  if invite_email is null then
    raise exception using errcode = 'PT400', hint = 'email_required',
      message = 'the profile has no e-mail address; give one';
  end if;
  if char_length(invite_email) > 320 or invite_email !~ '^[^@\s]+@[^@\s]+$' then
    raise exception using errcode = 'PT400', hint = 'invalid_email',
      message = 'email is not an e-mail address';
  end if;
  if public.auth_email_in_use(invite_email) then
    raise exception using errcode = 'PT409', hint = 'email_taken',
      message = 'an account with this e-mail address already exists';
  end if;

  select * into active
    from public.profile_invitations
   where profile_id = p_profile_id and status = 'pending'
     for update;
  if found then
    if active.expires_at <= now() then
      update public.profile_invitations set status = 'expired' where id = active.id;
    elsif p_replace then
      update public.profile_invitations set status = 'revoked', revoked_by = p_admin where id = active.id;
    else
      raise exception using errcode = 'PT409', hint = 'invitation_exists',
        message = 'the profile already has an active invitation',
        detail = public.profile_invitation_to_json(active)::text;
    end if;
  end if;

  insert into public.profile_invitations (profile_id, email, token_hash, token_encrypted, invited_by, expires_at)
  values (p_profile_id, invite_email, p_token_hash, p_token_encrypted, p_admin,
          now() + make_interval(days => lifetime_days))
  returning * into created;

  if not p_send_email then
    return public.profile_invitation_to_json(created);
  end if;
  created := public.queue_profile_invitation_send(created.id, p_claim_seconds);
  return public.profile_invitation_to_json(created)
         || jsonb_build_object('mail', public.profile_invitation_mail_context(created));
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- resend_profile_invitation: a new send of the profile's active invitation, same token. Returns
-- it with `mail`. PT404 no_active_invitation when the profile has none (or it has expired).
-- ---------------------------------------------------------------------------------------------
create function public.resend_profile_invitation(p_admin uuid, p_profile_id uuid, p_claim_seconds integer default 120)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  target public.profiles;
  active public.profile_invitations;
begin
  -- Before anything else, so a non-admin (or a blocked account) learns nothing about profiles.
  perform private.require_invitation_admin(p_admin);
  -- The lock order of every invitation function: the profile, then its invitation.
  select * into target from public.profiles where id = p_profile_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'profile_not_found',
      message = format('no profile %s', p_profile_id);
  end if;
  select * into active
    from public.profile_invitations
   where profile_id = p_profile_id and status = 'pending' and expires_at > now()
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'no_active_invitation',
      message = 'the profile has no active invitation to resend; create one';
  end if;
  if active.token_encrypted is null then
    raise exception using errcode = 'PT409', hint = 'link_not_stored',
      message = 'this invitation''s link was not kept; replace the invitation to send a new one';
  end if;

  active := public.queue_profile_invitation_send(active.id, p_claim_seconds);
  return public.profile_invitation_to_json(active)
         || jsonb_build_object('mail', public.profile_invitation_mail_context(active));
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- record_profile_invitation_delivery: the outcome of one attempt of the send `p_delivery_key`.
-- A stale key (an admin has asked for a new send since) changes nothing. A failure is retried
-- after 1, 4, 16 and 64 minutes (5 attempts in all) unless `p_permanent` (the provider refused
-- the message itself, e.g. the address): then it stays failed until an admin resends. Returns
-- the invitation (profile_invitation_to_json).
-- ---------------------------------------------------------------------------------------------
create function public.record_profile_invitation_delivery(
  p_invitation_id uuid,
  p_delivery_key text,
  p_sent boolean,
  p_error text default null,
  p_permanent boolean default false,
  p_message_id text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  invitation public.profile_invitations;
  max_attempts constant integer := 5;
begin
  select * into invitation from public.profile_invitations where id = p_invitation_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'invitation_not_found',
      message = format('no invitation %s', p_invitation_id);
  end if;
  if invitation.delivery_key is distinct from p_delivery_key or invitation.delivery_status = 'sent' then
    return public.profile_invitation_to_json(invitation);
  end if;

  if p_sent then
    update public.profile_invitations
       set delivery_status = 'sent',
           delivery_attempts = delivery_attempts + 1,
           delivery_error = null,
           delivery_next_attempt_at = null,
           delivery_sent_at = now(),
           delivery_message_id = left(p_message_id, 200)
     where id = p_invitation_id
    returning * into invitation;
  else
    update public.profile_invitations
       set delivery_status = 'failed',
           delivery_attempts = delivery_attempts + 1,
           delivery_error = left(coalesce(nullif(btrim(p_error), ''), 'unknown error'), 500),
           delivery_next_attempt_at =
             case when p_permanent or delivery_attempts + 1 >= max_attempts then null
                  else now() + interval '1 minute' * power(4, delivery_attempts) end
     where id = p_invitation_id
    returning * into invitation;
  end if;
  return public.profile_invitation_to_json(invitation);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- claim_profile_invitation_deliveries: the retry job's batch. Up to p_limit pending, unexpired
-- invitations whose send is due, each claimed for p_claim_seconds (concurrent jobs skip what
-- another has locked or claimed), as a JSON array of invitations with `mail`.
-- ---------------------------------------------------------------------------------------------
create function public.claim_profile_invitation_deliveries(p_limit integer default 20, p_claim_seconds integer default 120)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  claimed jsonb := '[]'::jsonb;
  due public.profile_invitations;
begin
  for due in
    select *
      from public.profile_invitations
     where status = 'pending'
       and expires_at > now()
       and delivery_status in ('queued', 'failed')
       and delivery_next_attempt_at <= now()
     order by delivery_next_attempt_at
     limit greatest(least(p_limit, 100), 1)
       for update skip locked
  loop
    update public.profile_invitations
       set delivery_next_attempt_at = now() + make_interval(secs => p_claim_seconds)
     where id = due.id
    returning * into due;
    claimed := claimed || jsonb_build_array(
      public.profile_invitation_to_json(due)
      || jsonb_build_object('mail', public.profile_invitation_mail_context(due)));
  end loop;
  return claimed;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- profile_invitation_acceptance_notice: what accept-invitation tells the inviting admin once
-- the invitation of p_token_hash is accepted: {invitee_email, accepted_at, profile, inviter}.
-- Null when the invitation is not accepted or nobody is left to tell.
-- ---------------------------------------------------------------------------------------------
create function public.profile_invitation_acceptance_notice(p_token_hash text)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object('invitation_id', i.id, 'invitee_email', i.email, 'accepted_at', i.accepted_at)
         || (public.profile_invitation_mail_context(i) - 'delivery_key')
    from public.profile_invitations i
    join public.user_profiles u on u.id = i.invited_by and u.email is not null
   where i.token_hash = p_token_hash and i.status = 'accepted';
$$;

revoke execute on function
  public.profile_invitation_mail_context(public.profile_invitations),
  public.queue_profile_invitation_send(uuid, integer),
  public.create_profile_invitation(uuid, uuid, text, text, text, integer, boolean, boolean, integer),
  public.resend_profile_invitation(uuid, uuid, integer),
  public.record_profile_invitation_delivery(uuid, text, boolean, text, boolean, text),
  public.claim_profile_invitation_deliveries(integer, integer),
  public.profile_invitation_acceptance_notice(text)
  from public, anon, authenticated;
grant execute on function
  public.profile_invitation_mail_context(public.profile_invitations),
  public.queue_profile_invitation_send(uuid, integer),
  public.create_profile_invitation(uuid, uuid, text, text, text, integer, boolean, boolean, integer),
  public.resend_profile_invitation(uuid, uuid, integer),
  public.record_profile_invitation_delivery(uuid, text, boolean, text, boolean, text),
  public.claim_profile_invitation_deliveries(integer, integer),
  public.profile_invitation_acceptance_notice(text)
  to service_role;
