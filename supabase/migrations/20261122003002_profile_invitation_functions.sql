-- What create-invitation and accept-invitation need from the database: one function per step,
-- each all-or-nothing, called by the Workers through /rest/v1/rpc/ with the service key.
--
-- Errors are raised, so the transaction rolls back and nothing is written. PostgREST turns
-- SQLSTATE PTxyz into HTTP status xyz and returns {code, message, details, hint}; the hint is the
-- machine code the Workers map to their own `{"error", "code"}` answers:
--   PT403 not_admin               p_admin is not an active admin, workspace owner or super admin
--   PT404 profile_not_found       no such profile
--   PT404 invitation_not_found    no invitation with this token hash / id, or it was revoked
--   PT409 profile_already_linked  the profile already belongs to an account
--   PT409 invitation_exists       the profile has an active invitation; `details` is it, as JSON
--   PT409 invitation_not_pending  revoking an invitation that is accepted, expired or revoked;
--                                 `details` is its status
--   PT409 email_taken             an account (another one, when accepting) has this e-mail
--   PT409 account_already_linked  the accepting account already owns another profile
--   PT410 invitation_expired      the invitation is past expires_at (or marked expired)
--   PT410 invitation_used         the invitation was accepted already
--   PT400 email_required          no e-mail given and the profile has none
--   PT400 invalid_email           the e-mail is not an address
--   PT400 invalid_expiry          expires_in_days is not between 1 and 30
--   PT400 unknown_user            the accepting account does not exist
--   23514 / 23502                 a malformed or missing token hash or envelope -> 400
--
-- Expiry. A pending invitation past expires_at is expired everywhere, whether or not a row says
-- so yet. create_profile_invitation writes `expired` when it meets one (it has to, to make room
-- for the new pending invitation); the others only answer as if it were written, because an
-- error rolls their transaction back anyway.
--
-- Locks. Functions that change a profile's invitations lock the profile row first, then the
-- invitation row. Inviting and accepting for one profile therefore run one after the other (the
-- second sees what the first committed), and the fixed order cannot deadlock.
--
-- All of them are security invoker and executable by service_role alone, which has every right
-- they need and bypasses RLS. Were EXECUTE ever granted more widely by mistake, a user's call
-- would meet RLS and the column privileges instead of an owner's rights. The one thing
-- service_role cannot read on a hosted project, auth.users, is behind public.auth_email_in_use.

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- An invitation as the Workers see it: every column but the token hash, with the status it has
-- now (a pending invitation past expires_at is `expired`). token_encrypted is the envelope the
-- Worker opens to show an admin the link again; it never leaves the Worker.
create function public.profile_invitation_to_json(invitation public.profile_invitations)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(invitation) - 'token_hash'
         || jsonb_build_object('status',
              case when invitation.status = 'pending' and invitation.expires_at <= now()
                   then 'expired' else invitation.status::text end);
$$;

-- One e-mail, one account: whether an account other than p_except_user has this address
-- (compared the way Supabase Auth's unique index compares it). security definer because only
-- the owner (postgres) reads auth.users on a hosted project.
create function public.auth_email_in_use(p_email text, p_except_user uuid default null)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select
      from auth.users
     where lower(email) = lower(p_email)
       and id is distinct from p_except_user
  );
$$;

-- ---------------------------------------------------------------------------------------------
-- create_profile_invitation: an admin invites someone to claim an unlinked profile.
--
-- p_token_hash is the SHA-256 hex of the link's token (edge_crypto::hash_token), p_token_encrypted
-- the token sealed by the Worker (optional). The e-mail defaults to the profile's; the lifetime
-- to 7 days (1..30). An active invitation for the profile is a conflict unless p_replace, which
-- revokes it (revoked_by p_admin) in this transaction. Returns the new invitation
-- (public.profile_invitation_to_json).
-- ---------------------------------------------------------------------------------------------
create function public.create_profile_invitation(
  p_admin uuid,
  p_profile_id uuid,
  p_token_hash text,
  p_email text default null,
  p_token_encrypted text default null,
  p_expires_in_days integer default null,
  p_replace boolean default false
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
  -- Before anything else, so a non-admin learns nothing about profiles.
  if not public.is_invitation_admin(p_admin) then
    raise exception using errcode = 'PT403', hint = 'not_admin',
      message = 'only admins, workspace owners and platform super admins may invite';
  end if;
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
  -- Accepting would fail: the invitee already has an account.
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

  return public.profile_invitation_to_json(created);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- preview_profile_invitation: what the register page shows for a link, and only that.
-- Returns {email, expires_at, profile: {first_name, last_name}} for a usable invitation.
-- ---------------------------------------------------------------------------------------------
create function public.preview_profile_invitation(p_token_hash text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  invitation public.profile_invitations;
  target public.profiles;
begin
  select * into invitation from public.profile_invitations where token_hash = p_token_hash;
  -- A revoked link is as dead as a made-up one.
  if not found or invitation.status = 'revoked' then
    raise exception using errcode = 'PT404', hint = 'invitation_not_found',
      message = 'no such invitation';
  end if;
  if invitation.status = 'accepted' then
    raise exception using errcode = 'PT410', hint = 'invitation_used',
      message = 'the invitation has been used';
  end if;
  if invitation.status = 'expired' or invitation.expires_at <= now() then
    raise exception using errcode = 'PT410', hint = 'invitation_expired',
      message = 'the invitation has expired';
  end if;

  select * into target from public.profiles where id = invitation.profile_id;
  if target.user_id is not null then
    raise exception using errcode = 'PT409', hint = 'profile_already_linked',
      message = 'the profile already belongs to an account';
  end if;

  return jsonb_build_object(
    'email', invitation.email,
    'expires_at', invitation.expires_at,
    'profile', jsonb_build_object('first_name', target.first_name, 'last_name', target.last_name)
  );
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- accept_profile_invitation: links the account the Worker has just created (through Supabase
-- Auth's admin API) to the invited profile. In this one transaction: the profile gets
-- user_id = p_user_id, the account's user_profiles row (made by the auth trigger) gets role
-- `user`, and the invitation becomes `accepted`. Returns {user_id, profile_id, email}.
--
-- On any error nothing is written, and the Worker deletes the account it created. Of concurrent
-- accepts of one token, the first to lock the profile wins; the others then find the invitation
-- accepted (410 invitation_used) or the profile linked (409).
-- ---------------------------------------------------------------------------------------------
create function public.accept_profile_invitation(p_token_hash text, p_user_id uuid)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  invited_profile_id uuid;
  target public.profiles;
  invitation public.profile_invitations;
begin
  -- Learn the profile without locking, then lock profile and invitation in the order every
  -- invitation function uses (see the header), and decide on what is committed by then.
  select profile_id into invited_profile_id from public.profile_invitations where token_hash = p_token_hash;
  if found then
    select * into target from public.profiles where id = invited_profile_id for update;
    select * into invitation from public.profile_invitations where token_hash = p_token_hash for update;
  end if;

  if invitation.id is null or invitation.status = 'revoked' then
    raise exception using errcode = 'PT404', hint = 'invitation_not_found',
      message = 'no such invitation';
  end if;
  if invitation.status = 'accepted' then
    raise exception using errcode = 'PT410', hint = 'invitation_used',
      message = 'the invitation has been used';
  end if;
  if invitation.status = 'expired' or invitation.expires_at <= now() then
    raise exception using errcode = 'PT410', hint = 'invitation_expired',
      message = 'the invitation has expired';
  end if;
  if target.user_id is not null then
    raise exception using errcode = 'PT409', hint = 'profile_already_linked',
      message = 'the profile already belongs to an account';
  end if;
  if exists (select from public.profiles where user_id = p_user_id) then
    raise exception using errcode = 'PT409', hint = 'account_already_linked',
      message = 'the account already owns a profile';
  end if;
  if public.auth_email_in_use(invitation.email, p_user_id) then
    raise exception using errcode = 'PT409', hint = 'email_taken',
      message = 'another account with this e-mail address exists';
  end if;

  -- Every account has this row from the auth trigger; none means no such account.
  update public.user_profiles set role = 'user' where id = p_user_id;
  if not found then
    raise exception using errcode = 'PT400', hint = 'unknown_user',
      message = format('no account %s', p_user_id);
  end if;

  update public.profiles set user_id = p_user_id where id = target.id;
  update public.profile_invitations set status = 'accepted', accepted_by = p_user_id where id = invitation.id;

  return jsonb_build_object('user_id', p_user_id, 'profile_id', target.id, 'email', invitation.email);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- list_profile_invitations: a profile's invitation history, newest first, as a JSON array of
-- public.profile_invitation_to_json.
-- ---------------------------------------------------------------------------------------------
create function public.list_profile_invitations(p_admin uuid, p_profile_id uuid)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if not public.is_invitation_admin(p_admin) then
    raise exception using errcode = 'PT403', hint = 'not_admin',
      message = 'only admins, workspace owners and platform super admins may see invitations';
  end if;
  if not exists (select from public.profiles where id = p_profile_id) then
    raise exception using errcode = 'PT404', hint = 'profile_not_found',
      message = format('no profile %s', p_profile_id);
  end if;

  return coalesce(
    (select jsonb_agg(public.profile_invitation_to_json(i) order by i.created_at desc, i.id desc)
       from public.profile_invitations i
      where i.profile_id = p_profile_id),
    '[]'::jsonb);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- revoke_profile_invitation: cancels a pending invitation; returns it, now `revoked`.
-- ---------------------------------------------------------------------------------------------
create function public.revoke_profile_invitation(p_admin uuid, p_invitation_id uuid)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  invitation public.profile_invitations;
  current_status text;
begin
  if not public.is_invitation_admin(p_admin) then
    raise exception using errcode = 'PT403', hint = 'not_admin',
      message = 'only admins, workspace owners and platform super admins may revoke invitations';
  end if;

  select * into invitation from public.profile_invitations where id = p_invitation_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'invitation_not_found',
      message = format('no invitation %s', p_invitation_id);
  end if;
  current_status := public.profile_invitation_to_json(invitation) ->> 'status';
  if current_status <> 'pending' then
    raise exception using errcode = 'PT409', hint = 'invitation_not_pending',
      message = format('the invitation is %s and cannot be revoked', current_status),
      detail = current_status;
  end if;

  update public.profile_invitations
     set status = 'revoked', revoked_by = p_admin
   where id = p_invitation_id
  returning * into invitation;

  return public.profile_invitation_to_json(invitation);
end;
$$;

-- Only the Workers (service role) call these; nothing here is for users or anon.
revoke execute on function
  public.profile_invitation_to_json(public.profile_invitations),
  public.auth_email_in_use(text, uuid),
  public.create_profile_invitation(uuid, uuid, text, text, text, integer, boolean),
  public.preview_profile_invitation(text),
  public.accept_profile_invitation(text, uuid),
  public.list_profile_invitations(uuid, uuid),
  public.revoke_profile_invitation(uuid, uuid)
  from public, anon, authenticated;
grant execute on function
  public.profile_invitation_to_json(public.profile_invitations),
  public.auth_email_in_use(text, uuid),
  public.create_profile_invitation(uuid, uuid, text, text, text, integer, boolean),
  public.preview_profile_invitation(text),
  public.accept_profile_invitation(text, uuid),
  public.list_profile_invitations(uuid, uuid),
  public.revoke_profile_invitation(uuid, uuid)
  to service_role;
