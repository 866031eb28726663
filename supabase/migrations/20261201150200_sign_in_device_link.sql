-- Seed 001's cross-device visitors: a person who was a guest on device A signs in to their
-- account on device B. guest-signup's `POST /functions/v1/guest-signup/link` (the user's new
-- session + the guest access token device B held before signing in) calls
-- link_signed_in_device with the service key.
--
-- What "merging" means here, from seed 001's columns:
--   * device B's visitor is linked to the account (link_visitor_to_user, linked_by 'sign_in');
--   * the account's linked_visitor_ids gains it (link_visitor_to_user);
--   * visitor.linked_visitor_ids ("other linked visitors") of device B's visitor gets the
--     account's other visitors, and each of those gets device B's: the same person's devices
--     know each other;
--   * visitor.merge_notes ("explanation of the merge") says when, how and to which account.
-- The guest account device B had, and anything it wrote, are left as link_visitor_to_user
-- documents: the retention job deletes them when the visitor's expire_at passes (the linked
-- visitor itself stays with the account).
-- The account's last_login_at and last_ip (seed 001) are stamped with this sign-in.

-- ---------------------------------------------------------------------------------------------
-- link_signed_in_device(p_user_id, p_guest_user_id, p_ip)
--   -> {visitor_id, user_id, linked_by, linked_at, already_linked, linked_visitor_ids}
-- p_user_id: the signed-in full account (its verified token's sub); p_guest_user_id: the sub of
-- the guest access token the device presented (the proof that the caller holds that visitor);
-- p_ip: the client address, or null.
-- Errors: as link_visitor_to_user (PT404 account_not_found / visitor_not_found, PT409
-- account_is_guest / visitor_linked_elsewhere, 22023); PT404 visitor_not_found also when the
-- guest account has no visitor.
-- ---------------------------------------------------------------------------------------------
create function public.link_signed_in_device(p_user_id uuid, p_guest_user_id uuid, p_ip inet default null)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  device_id uuid;
  linked jsonb;
  others jsonb;
begin
  if p_user_id is null or p_guest_user_id is null then
    raise exception using errcode = '22023', message = 'user_id and guest_user_id are required';
  end if;
  if p_user_id = p_guest_user_id then
    raise exception using errcode = '22023', message = 'the guest token is the signed-in account''s own';
  end if;

  select visitor_id into device_id from public.visitor where auth_user_id = p_guest_user_id;
  if not found then
    raise exception using errcode = 'PT404', hint = 'visitor_not_found',
      message = format('guest %s has no visitor', p_guest_user_id);
  end if;

  -- Locks the account row, then the visitor; refuses guests and visitors of other accounts.
  linked := public.link_visitor_to_user(p_user_id, device_id, p_guest_user_id);

  select coalesce(jsonb_agg(v.visitor_id), '[]') into others
    from public.visitor as v
   where v.user_id = p_user_id and v.visitor_id <> device_id;

  update public.visitor
     set linked_visitor_ids = public.jsonb_array_union(linked_visitor_ids, others),
         merge_notes = case when (linked ->> 'already_linked')::boolean then merge_notes
                            else left(format(
                              'Linked to account %s at sign-in on %s (linked_by sign_in); '
                              'guest account %s left as it was; the account''s other visitors: %s',
                              p_user_id, now(), p_guest_user_id, others), 2000)
                       end
   where visitor_id = device_id;

  update public.visitor
     set linked_visitor_ids = public.jsonb_array_union(linked_visitor_ids, jsonb_build_array(device_id))
   where user_id = p_user_id and visitor_id <> device_id;

  update public.user_profiles
     set last_login_at = now(),
         last_ip = coalesce(p_ip, last_ip)
   where id = p_user_id;

  return linked || jsonb_build_object('linked_visitor_ids', others);
end;
$$;

revoke execute on function public.link_signed_in_device(uuid, uuid, inet) from public, anon, authenticated;
grant execute on function public.link_signed_in_device(uuid, uuid, inet) to service_role;
