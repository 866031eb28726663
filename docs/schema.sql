-- The database schema the migrations in supabase/migrations give, as `pg_dump --schema-only`
-- prints it: every object of the project's schemas, and of the schemas devstack creates in the
-- place of Supabase's (auth, storage, realtime, …) only what the migrations add or change.
-- Written by `cargo run -q -p devstack -- schema-dump --out docs/schema.sql`; do not edit
-- (tests/schema-snapshot.test.mjs fails when it and the migrations disagree).

--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: private; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA private;


ALTER SCHEMA private OWNER TO postgres;

--
-- Name: account_role; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.account_role AS ENUM (
    'user',
    'admin',
    'workspace_owner',
    'platform_super_admin'
);


ALTER TYPE public.account_role OWNER TO postgres;

--
-- Name: account_state; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.account_state AS ENUM (
    'active',
    'blocked',
    'pending_verification',
    'deleted'
);


ALTER TYPE public.account_state OWNER TO postgres;

--
-- Name: account_tier; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.account_tier AS ENUM (
    'free',
    'pro',
    'enterprise'
);


ALTER TYPE public.account_tier OWNER TO postgres;

--
-- Name: auth_vault_kind; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.auth_vault_kind AS ENUM (
    'session',
    'token',
    'cookie',
    'claims',
    'profile',
    'other'
);


ALTER TYPE public.auth_vault_kind OWNER TO postgres;

--
-- Name: auth_vault_provider; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.auth_vault_provider AS ENUM (
    'supabase',
    'google',
    'apple',
    'email',
    'otp',
    'passkey',
    'custom'
);


ALTER TYPE public.auth_vault_provider OWNER TO postgres;

--
-- Name: auth_vault_status; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.auth_vault_status AS ENUM (
    'active',
    'expired',
    'revoked'
);


ALTER TYPE public.auth_vault_status OWNER TO postgres;

--
-- Name: invitation_delivery_status; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.invitation_delivery_status AS ENUM (
    'queued',
    'sent',
    'failed'
);


ALTER TYPE public.invitation_delivery_status OWNER TO postgres;

--
-- Name: invitation_status; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.invitation_status AS ENUM (
    'pending',
    'accepted',
    'expired',
    'revoked'
);


ALTER TYPE public.invitation_status OWNER TO postgres;

--
-- Name: segmentation_status; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.segmentation_status AS ENUM (
    'pending',
    'processing',
    'done',
    'error',
    'cancelled'
);


ALTER TYPE public.segmentation_status OWNER TO postgres;

--
-- Name: usage_action; Type: TYPE; Schema: public; Owner: postgres
--

CREATE TYPE public.usage_action AS ENUM (
    'segmentation',
    'upload'
);


ALTER TYPE public.usage_action OWNER TO postgres;

--
-- Name: account_is_active(uuid); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.account_is_active(p_user_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select exists (
    select
      from public.user_profiles
     where id = p_user_id
       and state not in ('blocked', 'deleted')
       and deleted_at is null
  );
$$;


ALTER FUNCTION private.account_is_active(p_user_id uuid) OWNER TO postgres;

--
-- Name: account_last_active_at(uuid); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.account_last_active_at(p_user_id uuid) RETURNS timestamp with time zone
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select greatest(
    u.created_at,
    u.last_sign_in_at,
    (select max(rt.created_at)
       from auth.sessions s
       join auth.refresh_tokens rt on rt.session_id = s.id
      where s.user_id = u.id))
    from auth.users u
   where u.id = p_user_id;
$$;


ALTER FUNCTION private.account_last_active_at(p_user_id uuid) OWNER TO postgres;

--
-- Name: assert_account_active(uuid); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.assert_account_active(p_user_id uuid) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if not private.account_is_active(p_user_id) then
    raise exception using errcode = 'PT403', hint = 'account_blocked',
      message = 'this account is blocked or deleted';
  end if;
end;
$$;


ALTER FUNCTION private.assert_account_active(p_user_id uuid) OWNER TO postgres;

--
-- Name: check_task_source_image(); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.check_task_source_image() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.source_image_path is null then
    return new;
  end if;
  if split_part(new.source_image_path, '/', 1) <> new.user_id::text
     or not exists (select from storage.objects as o
                     where o.bucket_id = 'images' and o.name = new.source_image_path) then
    raise exception using errcode = 'PT400', hint = 'source_image_not_found',
      message = 'source_image_path must name an image of yours in the images bucket (<your id>/...)',
      detail = format('no object %s of this user in images', new.source_image_path);
  end if;
  return new;
end;
$$;


ALTER FUNCTION private.check_task_source_image() OWNER TO postgres;

--
-- Name: claim_guest_visitor(); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.claim_guest_visitor() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  claim text := new.raw_user_meta_data ->> 'guest_signup_claim';
  claimed uuid;
begin
  -- The claim is spent here: it never stays in the account's metadata.
  update auth.users set raw_user_meta_data = raw_user_meta_data - 'guest_signup_claim'
   where id = new.id;
  if claim is null or not coalesce(new.is_anonymous, false) then
    return null;
  end if;

  delete from private.guest_signup_claims
   where claim_hash = sha256(convert_to(claim, 'UTF8')) and expires_at > now()
  returning visitor_id into claimed;
  if claimed is null then
    raise exception using errcode = '22023', hint = 'guest_signup_claim_invalid',
      message = 'unknown or expired guest sign-up claim';
  end if;

  update public.visitor
     set auth_user_id = new.id,
         first_seen_at = now(),
         expire_at = now() + make_interval(days => retention_ttl_days)
   where visitor_id = claimed;
  perform private.grant_trial_credits(new.id);
  return null;
end;
$$;


ALTER FUNCTION private.claim_guest_visitor() OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: segmentation_results; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.segmentation_results (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    project_id uuid,
    source_image_url text,
    mask_image_url text,
    text_prompt text,
    status public.segmentation_status DEFAULT 'pending'::public.segmentation_status NOT NULL,
    labels jsonb,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    error text,
    charged_at timestamp with time zone,
    credits_charged integer,
    credits_shortfall integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    credits_reserved integer DEFAULT 0 NOT NULL,
    attempt integer DEFAULT 1 NOT NULL,
    queued_at timestamp with time zone DEFAULT now() NOT NULL,
    claimed_at timestamp with time zone,
    lease_expires_at timestamp with time zone,
    mask_path text,
    source_image_path text,
    CONSTRAINT segmentation_results_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT segmentation_results_charge_complete CHECK ((((charged_at IS NULL) AND (credits_charged IS NULL) AND (credits_shortfall IS NULL)) OR ((status = 'done'::public.segmentation_status) AND (charged_at IS NOT NULL) AND (credits_charged IS NOT NULL) AND (credits_shortfall IS NOT NULL)))),
    CONSTRAINT segmentation_results_credits_charged_check CHECK ((credits_charged >= 0)),
    CONSTRAINT segmentation_results_credits_shortfall_check CHECK ((credits_shortfall >= 0)),
    CONSTRAINT segmentation_results_error_check CHECK (((error IS NULL) OR (char_length(error) <= 2000))),
    CONSTRAINT segmentation_results_labels_check CHECK (((labels IS NULL) OR (jsonb_typeof(labels) = 'array'::text))),
    CONSTRAINT segmentation_results_lease_processing CHECK (((lease_expires_at IS NULL) OR (status = 'processing'::public.segmentation_status))),
    CONSTRAINT segmentation_results_mask_image_url_check CHECK (((mask_image_url IS NULL) OR ((char_length(mask_image_url) <= 2048) AND (mask_image_url ~ '^https?://'::text)))),
    CONSTRAINT segmentation_results_mask_path_check CHECK (((mask_path IS NULL) OR (((char_length(mask_path) >= 3) AND (char_length(mask_path) <= 1024)) AND (mask_path !~ '(^|/)\.\.?(/|$)'::text) AND (mask_path !~ '[[:cntrl:]\\]'::text)))),
    CONSTRAINT segmentation_results_metadata_check CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT segmentation_results_one_source CHECK (((source_image_url IS NULL) <> (source_image_path IS NULL))),
    CONSTRAINT segmentation_results_reservation_open CHECK (((credits_reserved >= 0) AND ((credits_reserved = 0) OR (status = ANY (ARRAY['pending'::public.segmentation_status, 'processing'::public.segmentation_status]))))),
    CONSTRAINT segmentation_results_source_image_path_check CHECK (((source_image_path IS NULL) OR (((char_length(source_image_path) >= 3) AND (char_length(source_image_path) <= 1024)) AND (source_image_path !~ '(^|/)\.\.?(/|$)'::text)))),
    CONSTRAINT segmentation_results_source_image_url_check CHECK (((char_length(source_image_url) <= 2048) AND (source_image_url ~ '^https?://'::text))),
    CONSTRAINT segmentation_results_text_prompt_check CHECK (((text_prompt IS NULL) OR (char_length(text_prompt) <= 2000)))
);


ALTER TABLE public.segmentation_results OWNER TO postgres;

--
-- Name: close_open_task(public.segmentation_results, public.segmentation_status, text, jsonb); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.close_open_task(p_task public.segmentation_results, p_status public.segmentation_status, p_error text, p_metadata jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if p_task.credits_reserved > 0 then
    update public.user_profiles
       set credits_reserved = credits_reserved - p_task.credits_reserved
     where id = p_task.user_id;
  end if;
  update public.segmentation_results
     set status = p_status,
         credits_reserved = 0,
         lease_expires_at = null,
         error = coalesce(p_error, error),
         metadata = metadata || p_metadata
   where id = p_task.id;
end;
$$;


ALTER FUNCTION private.close_open_task(p_task public.segmentation_results, p_status public.segmentation_status, p_error text, p_metadata jsonb) OWNER TO postgres;

--
-- Name: grant_trial_credits(uuid); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.grant_trial_credits(p_user_id uuid) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  update public.user_profiles as p
     set credits = p.credits + l.starting_credits,
         starting_credits_received = true
    from public.levels as l
   where p.id = p_user_id and l.level_id = p.level
     and p.is_guest and not p.starting_credits_received;
$$;


ALTER FUNCTION private.grant_trial_credits(p_user_id uuid) OWNER TO postgres;

--
-- Name: visitor; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.visitor (
    visitor_id uuid DEFAULT gen_random_uuid() NOT NULL,
    auth_user_id uuid,
    level smallint DEFAULT 1 NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    landing_url text,
    referrer_host text,
    utm_source text,
    utm_medium text,
    utm_campaign text,
    utm_term text,
    utm_content text,
    device_type text,
    device_class text,
    device_brand text,
    device_model text,
    os_name text,
    os_version text,
    browser_name text,
    browser_version text,
    user_agent_hash character(64),
    screen_width integer,
    screen_height integer,
    touch_support boolean,
    app_platform text,
    app_name text,
    app_version text,
    runtime_engine text,
    display_mode text,
    install_source text,
    geo_country text,
    geo_city text,
    timezone_guess text,
    ip_address inet,
    linked_to_user boolean DEFAULT false NOT NULL,
    user_id uuid,
    linked_at timestamp with time zone,
    linked_by text,
    linked_visitor_ids jsonb DEFAULT '[]'::jsonb NOT NULL,
    merge_notes text,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    notes text,
    retention_ttl_days integer DEFAULT 30 NOT NULL,
    expire_at timestamp with time zone,
    CONSTRAINT visitor_app_name_check CHECK (((app_name IS NULL) OR (char_length(app_name) <= 100))),
    CONSTRAINT visitor_app_platform_check CHECK ((app_platform = ANY (ARRAY['browser'::text, 'pwa'::text, 'native_app'::text, 'webview'::text]))),
    CONSTRAINT visitor_app_version_check CHECK (((app_version IS NULL) OR (char_length(app_version) <= 50))),
    CONSTRAINT visitor_browser_name_check CHECK (((browser_name IS NULL) OR (char_length(browser_name) <= 100))),
    CONSTRAINT visitor_browser_version_check CHECK (((browser_version IS NULL) OR (char_length(browser_version) <= 50))),
    CONSTRAINT visitor_device_brand_check CHECK (((device_brand IS NULL) OR (char_length(device_brand) <= 100))),
    CONSTRAINT visitor_device_class_check CHECK ((device_class = ANY (ARRAY['phone'::text, 'tablet'::text, 'desktop'::text, 'tv'::text, 'bot'::text]))),
    CONSTRAINT visitor_device_model_check CHECK (((device_model IS NULL) OR (char_length(device_model) <= 100))),
    CONSTRAINT visitor_device_type_check CHECK ((device_type = ANY (ARRAY['desktop'::text, 'mobile'::text, 'tablet'::text]))),
    CONSTRAINT visitor_display_mode_check CHECK ((display_mode = ANY (ARRAY['browser'::text, 'standalone'::text, 'minimal-ui'::text, 'fullscreen'::text]))),
    CONSTRAINT visitor_geo_city_check CHECK (((geo_city IS NULL) OR (char_length(geo_city) <= 100))),
    CONSTRAINT visitor_geo_country_check CHECK ((geo_country ~ '^[A-Z][A-Z0-9]$'::text)),
    CONSTRAINT visitor_install_source_check CHECK ((install_source = ANY (ARRAY['store'::text, 'add_to_home'::text, 'direct'::text]))),
    CONSTRAINT visitor_landing_url_check CHECK (((landing_url IS NULL) OR ((char_length(landing_url) <= 2048) AND (landing_url ~ '^https?://[^\s]+$'::text)))),
    CONSTRAINT visitor_link_complete CHECK ((((NOT linked_to_user) AND (user_id IS NULL) AND (linked_at IS NULL) AND (linked_by IS NULL)) OR (linked_to_user AND (user_id IS NOT NULL) AND (linked_at IS NOT NULL) AND (linked_by IS NOT NULL)))),
    CONSTRAINT visitor_linked_by_check CHECK ((linked_by = ANY (ARRAY['upgrade'::text, 'sign_in'::text]))),
    CONSTRAINT visitor_linked_visitor_ids_check CHECK ((jsonb_typeof(linked_visitor_ids) = 'array'::text)),
    CONSTRAINT visitor_merge_notes_check CHECK (((merge_notes IS NULL) OR (char_length(merge_notes) <= 2000))),
    CONSTRAINT visitor_notes_check CHECK (((notes IS NULL) OR (char_length(notes) <= 2000))),
    CONSTRAINT visitor_os_name_check CHECK (((os_name IS NULL) OR (char_length(os_name) <= 100))),
    CONSTRAINT visitor_os_version_check CHECK (((os_version IS NULL) OR (char_length(os_version) <= 50))),
    CONSTRAINT visitor_referrer_host_check CHECK (((referrer_host IS NULL) OR ((char_length(referrer_host) <= 253) AND (referrer_host ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$'::text)))),
    CONSTRAINT visitor_retention_ttl_days_check CHECK (((retention_ttl_days >= 1) AND (retention_ttl_days <= 3650))),
    CONSTRAINT visitor_runtime_engine_check CHECK ((runtime_engine = ANY (ARRAY['chromium'::text, 'webkit'::text, 'gecko'::text, 'webview'::text]))),
    CONSTRAINT visitor_screen_height_check CHECK (((screen_height >= 1) AND (screen_height <= 100000))),
    CONSTRAINT visitor_screen_width_check CHECK (((screen_width >= 1) AND (screen_width <= 100000))),
    CONSTRAINT visitor_tags_check CHECK ((cardinality(tags) <= 50)),
    CONSTRAINT visitor_timezone_guess_check CHECK (((timezone_guess IS NULL) OR (char_length(timezone_guess) <= 64))),
    CONSTRAINT visitor_user_agent_hash_check CHECK ((user_agent_hash ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT visitor_utm_campaign_check CHECK (((utm_campaign IS NULL) OR (char_length(utm_campaign) <= 200))),
    CONSTRAINT visitor_utm_content_check CHECK (((utm_content IS NULL) OR (char_length(utm_content) <= 200))),
    CONSTRAINT visitor_utm_medium_check CHECK (((utm_medium IS NULL) OR (char_length(utm_medium) <= 200))),
    CONSTRAINT visitor_utm_source_check CHECK (((utm_source IS NULL) OR (char_length(utm_source) <= 200))),
    CONSTRAINT visitor_utm_term_check CHECK (((utm_term IS NULL) OR (char_length(utm_term) <= 200)))
);


ALTER TABLE public.visitor OWNER TO postgres;

--
-- Name: insert_visitor(uuid, jsonb); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.insert_visitor(p_user_id uuid, p_visitor jsonb) RETURNS public.visitor
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  accepted_keys constant text[] := array[
    'landing_url', 'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
    'utm_content', 'device_type', 'device_class', 'device_brand', 'device_model', 'os_name',
    'os_version', 'browser_name', 'browser_version', 'user_agent_hash', 'screen_width',
    'screen_height', 'touch_support', 'app_platform', 'app_name', 'app_version', 'runtime_engine',
    'display_mode', 'install_source', 'geo_country', 'geo_city', 'timezone_guess', 'ip_address',
    'retention_ttl_days'];
  unknown_keys text;
  attrs public.visitor;
  recorded public.visitor;
begin
  if p_visitor is null or jsonb_typeof(p_visitor) <> 'object' then
    raise exception using errcode = '22023', message = 'visitor must be a JSON object';
  end if;
  select string_agg(key, ', ' order by key) into unknown_keys
    from jsonb_object_keys(p_visitor) as key
   where key <> all (accepted_keys);
  if unknown_keys is not null then
    raise exception using errcode = '22023',
      message = format('unknown visitor attributes: %s', unknown_keys);
  end if;

  -- Types are checked here (22P02), lengths and shapes by the table's checks (23514).
  attrs := jsonb_populate_record(null::public.visitor, p_visitor);

  insert into public.visitor (
    auth_user_id, landing_url, referrer_host, utm_source, utm_medium, utm_campaign, utm_term,
    utm_content, device_type, device_class, device_brand, device_model, os_name, os_version,
    browser_name, browser_version, user_agent_hash, screen_width, screen_height, touch_support,
    app_platform, app_name, app_version, runtime_engine, display_mode, install_source,
    geo_country, geo_city, timezone_guess, ip_address, retention_ttl_days, expire_at
  )
  values (
    p_user_id, attrs.landing_url, attrs.referrer_host, attrs.utm_source, attrs.utm_medium,
    attrs.utm_campaign, attrs.utm_term, attrs.utm_content, attrs.device_type, attrs.device_class,
    attrs.device_brand, attrs.device_model, attrs.os_name, attrs.os_version, attrs.browser_name,
    attrs.browser_version, attrs.user_agent_hash, attrs.screen_width, attrs.screen_height,
    attrs.touch_support, attrs.app_platform, attrs.app_name, attrs.app_version,
    attrs.runtime_engine, attrs.display_mode, attrs.install_source, attrs.geo_country,
    attrs.geo_city, attrs.timezone_guess, attrs.ip_address,
    coalesce(attrs.retention_ttl_days, 30),
    now() + make_interval(days => coalesce(attrs.retention_ttl_days, 30))
  )
  returning * into recorded;
  return recorded;
end;
$$;


ALTER FUNCTION private.insert_visitor(p_user_id uuid, p_visitor jsonb) OWNER TO postgres;

--
-- Name: is_invitation_admin(uuid); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.is_invitation_admin(p_user_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select exists (
    select
      from public.user_profiles
     where id = p_user_id
       and state = 'active'
       and role in ('admin', 'workspace_owner', 'platform_super_admin')
  );
$$;


ALTER FUNCTION private.is_invitation_admin(p_user_id uuid) OWNER TO postgres;

--
-- Name: refuse_writes_by_inactive_accounts(); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.refuse_writes_by_inactive_accounts() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  -- A user's session, whoever runs the statement (a SECURITY DEFINER function included).
  if auth.role() = 'authenticated' then
    perform private.assert_account_active(auth.uid());
  end if;
  return null;
end;
$$;


ALTER FUNCTION private.refuse_writes_by_inactive_accounts() OWNER TO postgres;

--
-- Name: require_invitation_admin(uuid); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.require_invitation_admin(p_user_id uuid) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform private.assert_account_active(p_user_id);
  if not private.is_invitation_admin(p_user_id) then
    raise exception using errcode = 'PT403', hint = 'not_admin',
      message = 'only admins, workspace owners and platform super admins manage invitations';
  end if;
end;
$$;


ALTER FUNCTION private.require_invitation_admin(p_user_id uuid) OWNER TO postgres;

--
-- Name: sync_account_ban(); Type: FUNCTION; Schema: private; Owner: postgres
--

CREATE FUNCTION private.sync_account_ban() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  was_active boolean := old.state not in ('blocked', 'deleted') and old.deleted_at is null;
  is_active boolean := new.state not in ('blocked', 'deleted') and new.deleted_at is null;
begin
  if was_active and not is_active then
    update auth.users set banned_until = now() + interval '100 years' where id = new.id;
    -- Refresh tokens go with their sessions: every device is signed out.
    delete from auth.sessions where user_id = new.id;
  elsif is_active and not was_active then
    update auth.users set banned_until = null where id = new.id;
  end if;
  return null;
end;
$$;


ALTER FUNCTION private.sync_account_ban() OWNER TO postgres;

--
-- Name: accept_profile_invitation(text, uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.accept_profile_invitation(p_token_hash text, p_user_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.accept_profile_invitation(p_token_hash text, p_user_id uuid) OWNER TO postgres;

--
-- Name: accept_profile_invitation_with_notice(text, uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.accept_profile_invitation_with_notice(p_token_hash text, p_user_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  accepted jsonb;
begin
  accepted := public.accept_profile_invitation(p_token_hash, p_user_id);
  return accepted || jsonb_build_object('notice', public.profile_invitation_acceptance_notice(p_token_hash));
end;
$$;


ALTER FUNCTION public.accept_profile_invitation_with_notice(p_token_hash text, p_user_id uuid) OWNER TO postgres;

--
-- Name: apply_level_plan(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.apply_level_plan() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  plan public.levels;
  previous public.levels;
  previously_given integer;
begin
  select * into plan from public.levels where level_id = new.level;
  if not found then
    return new; -- the level's own foreign key refuses the row
  end if;
  if tg_op = 'INSERT' then
    new.tier := plan.tier;
    new.starting_credits_received := not new.is_guest;
    new.credits := case when new.is_guest then 0 else plan.starting_credits end;
    new.credits_granted_for := date_trunc('month', now() at time zone 'utc')::date;
    return new;
  end if;
  if new.level = old.level then
    -- Only the tier was set: allowed when it is the level's (the cascade from levels does that).
    if new.tier is distinct from plan.tier then
      raise exception using errcode = '22023', hint = 'tier_follows_level',
        message = format('the tier of level %s is %s; change the level, not the tier', plan.code, plan.tier);
    end if;
    return new;
  end if;
  new.tier := plan.tier;
  select * into previous from public.levels where level_id = old.level;
  previously_given := case when old.starting_credits_received
                           then coalesce(previous.starting_credits, 0) else 0 end;
  new.credits := new.credits + greatest(0, plan.starting_credits - previously_given);
  new.starting_credits_received := true;
  return new;
end;
$$;


ALTER FUNCTION public.apply_level_plan() OWNER TO postgres;

--
-- Name: apply_segmentation_webhook(uuid, text, text, text, jsonb, jsonb, integer, text, text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.apply_segmentation_webhook(p_task_id uuid, p_status text, p_delivery_id text DEFAULT NULL::text, p_mask_url text DEFAULT NULL::text, p_labels jsonb DEFAULT NULL::jsonb, p_metadata jsonb DEFAULT NULL::jsonb, p_credits_used integer DEFAULT NULL::integer, p_error text DEFAULT NULL::text, p_mask_path text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  new_status public.segmentation_status;
  price integer := coalesce(p_credits_used, 1);
  task public.segmentation_results;
  earlier public.webhook_deliveries;
  moves_forward boolean;
  account public.user_profiles;
  charge integer := 0;
  shortfall integer := 0;
  answer jsonb;
begin
  if p_task_id is null then
    raise exception using errcode = '22023', message = 'task_id is required';
  end if;
  if p_status is null or p_status not in ('processing', 'done', 'error') then
    raise exception using errcode = '22023',
      message = format('status must be processing, done or error, not %s', coalesce(p_status, 'null'));
  end if;
  if price < 0 then
    raise exception using errcode = '22023', message = 'credits_used must not be negative';
  end if;
  new_status := p_status::public.segmentation_status;

  -- Serialises every delivery for this task (see 20261122002002_process_webhook.sql).
  select * into task from public.segmentation_results where id = p_task_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'task_not_found',
      message = format('no segmentation task %s', p_task_id);
  end if;

  if p_delivery_id is not null then
    select * into earlier from public.webhook_deliveries where delivery_id = p_delivery_id;
    if found then
      if earlier.task_id <> p_task_id or earlier.status <> new_status then
        raise exception using errcode = 'PT409', hint = 'delivery_id_reused',
          message = format('delivery %s was already used for another task or status', p_delivery_id);
      end if;
      return earlier.outcome || jsonb_build_object('replayed', true);
    end if;
  end if;

  if task.status = 'cancelled' then
    raise exception using errcode = 'PT409', hint = 'task_cancelled',
      message = format('task %s was cancelled by its owner; the report is not applied', p_task_id),
      detail = 'current status: cancelled';
  end if;

  if p_mask_path is not null and split_part(p_mask_path, '/', 1) <> p_task_id::text then
    raise exception using errcode = 'PT400', hint = 'invalid_mask_path',
      message = 'mask_path must be an object in the task''s folder of masks: <task id>/...';
  end if;

  moves_forward := case task.status
    when 'pending' then new_status in ('processing', 'done', 'error')
    when 'processing' then new_status in ('done', 'error')
    else false
  end;
  if not moves_forward and task.status <> new_status then
    raise exception using errcode = 'PT409', hint = 'status_conflict',
      message = format('task %s is %s and cannot become %s', p_task_id, task.status, new_status),
      detail = format('current status: %s', task.status);
  end if;

  if moves_forward and new_status in ('done', 'error') then
    select * into account from public.user_profiles where id = task.user_id for update;
    if new_status = 'done' then
      -- The task's own reservation, then credits no open task holds.
      charge := least(price, task.credits_reserved + (account.credits - account.credits_reserved));
      shortfall := price - charge;
    end if;
    update public.user_profiles
       set credits = credits - charge,
           credits_reserved = credits_reserved - task.credits_reserved
     where id = task.user_id;
  end if;

  if moves_forward then
    update public.segmentation_results
       set status = new_status,
           mask_image_url = coalesce(p_mask_url, mask_image_url),
           mask_path = coalesce(p_mask_path, mask_path),
           labels = coalesce(p_labels, labels),
           metadata = metadata || coalesce(p_metadata, '{}'),
           error = case when new_status = 'error' then p_error else error end,
           credits_reserved = case when new_status = 'processing' then credits_reserved else 0 end,
           claimed_at = case when new_status = 'processing' then now() else claimed_at end,
           lease_expires_at = null
     where id = p_task_id;

    if new_status = 'done' then
      insert into public.usage_logs (user_id, action, credits_used, result_id, metadata)
      values (task.user_id, 'segmentation', charge, p_task_id,
              jsonb_build_object('credits_requested', price, 'credits_shortfall', shortfall,
                                 'credits_reserved', task.credits_reserved,
                                 'delivery_id', p_delivery_id));
      update public.segmentation_results
         set charged_at = now(), credits_charged = charge, credits_shortfall = shortfall
       where id = p_task_id;
    end if;
  end if;

  answer := jsonb_build_object(
    'task_id', p_task_id,
    'status', new_status,
    'outcome', case when moves_forward then 'applied' else 'unchanged' end,
    'charged', moves_forward and new_status = 'done',
    'credits_charged', charge,
    'credits_shortfall', shortfall,
    'credits_remaining', (select credits from public.user_profiles where id = task.user_id)
  );

  if p_delivery_id is not null then
    insert into public.webhook_deliveries (delivery_id, task_id, status, outcome)
    values (p_delivery_id, p_task_id, new_status, answer)
    on conflict (delivery_id) do nothing;
    -- Only a concurrent delivery with this id for another task can have got there first.
    if not found then
      raise exception using errcode = 'PT409', hint = 'delivery_id_reused',
        message = format('delivery %s was already used for another task or status', p_delivery_id);
    end if;
  end if;

  return answer || jsonb_build_object('replayed', false);
end;
$$;


ALTER FUNCTION public.apply_segmentation_webhook(p_task_id uuid, p_status text, p_delivery_id text, p_mask_url text, p_labels jsonb, p_metadata jsonb, p_credits_used integer, p_error text, p_mask_path text) OWNER TO postgres;

--
-- Name: auth_email_in_use(text, uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.auth_email_in_use(p_email text, p_except_user uuid DEFAULT NULL::uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select exists (
    select
      from auth.users
     where lower(email) = lower(p_email)
       and id is distinct from p_except_user
  );
$$;


ALTER FUNCTION public.auth_email_in_use(p_email text, p_except_user uuid) OWNER TO postgres;

--
-- Name: cancel_segmentation_task(uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.cancel_segmentation_task(task_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  task public.segmentation_results;
begin
  select * into task from public.segmentation_results as r
   where r.id = cancel_segmentation_task.task_id and r.user_id = auth.uid()
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'task_not_found',
      message = format('no segmentation task %s', cancel_segmentation_task.task_id);
  end if;
  if task.status = 'cancelled' then
    return jsonb_build_object('task_id', task.id, 'status', task.status, 'credits_released', 0,
                              'outcome', 'unchanged');
  end if;
  if task.status not in ('pending', 'processing') then
    raise exception using errcode = 'PT409', hint = 'status_conflict',
      message = format('task %s is %s and can no longer be cancelled', task.id, task.status);
  end if;
  perform private.close_open_task(task, 'cancelled', null,
    jsonb_build_object('cancelled_at', now(), 'cancelled_while', task.status));
  return jsonb_build_object('task_id', task.id, 'status', 'cancelled',
                            'credits_released', task.credits_reserved, 'outcome', 'applied');
end;
$$;


ALTER FUNCTION public.cancel_segmentation_task(task_id uuid) OWNER TO postgres;

--
-- Name: claim_profile_invitation_deliveries(integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.claim_profile_invitation_deliveries(p_limit integer DEFAULT 20, p_claim_seconds integer DEFAULT 120) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.claim_profile_invitation_deliveries(p_limit integer, p_claim_seconds integer) OWNER TO postgres;

--
-- Name: claim_segmentation_tasks(integer, integer, integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.claim_segmentation_tasks(p_max integer DEFAULT 1, p_lease_seconds integer DEFAULT 300, p_max_attempts integer DEFAULT 3, p_pending_timeout_seconds integer DEFAULT 86400) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  claimed jsonb;
begin
  if p_max is null or p_max not between 1 and 10 then
    raise exception using errcode = '22023', message = format('p_max must be between 1 and 10, not %s', p_max);
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception using errcode = '22023',
      message = format('p_lease_seconds must be between 30 and 3600, not %s', p_lease_seconds);
  end if;
  perform public.expire_segmentation_leases(p_max_attempts, p_pending_timeout_seconds);

  with picked as (
    select id from public.segmentation_results
     where status = 'pending'
     order by queued_at, id
     limit p_max
       for update skip locked
  ), taken as (
    update public.segmentation_results as r
       set status = 'processing', claimed_at = now(),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds)
      from picked
     where r.id = picked.id
    returning r.id, r.user_id, r.text_prompt, r.source_image_url, r.source_image_path,
              r.lease_expires_at, r.attempt, r.queued_at
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'task_id', id, 'user_id', user_id, 'text_prompt', text_prompt,
           'source_image_url', source_image_url, 'source_image_path', source_image_path,
           'lease_expires_at', lease_expires_at, 'attempt', attempt) order by queued_at, id), '[]')
    into claimed
    from taken;
  return claimed;
end;
$$;


ALTER FUNCTION public.claim_segmentation_tasks(p_max integer, p_lease_seconds integer, p_max_attempts integer, p_pending_timeout_seconds integer) OWNER TO postgres;

--
-- Name: connections; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.connections (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    name text NOT NULL,
    url text NOT NULL,
    allow_writes boolean DEFAULT false NOT NULL,
    anon_key_encrypted text NOT NULL,
    service_role_key_encrypted text NOT NULL,
    anon_key_hint text NOT NULL,
    service_role_key_hint text NOT NULL,
    key_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    key_binding smallint DEFAULT 1 NOT NULL,
    CONSTRAINT connections_anon_key_hint_check CHECK ((char_length(anon_key_hint) <= 6)),
    CONSTRAINT connections_key_binding_check CHECK ((key_binding = ANY (ARRAY[1, 2]))),
    CONSTRAINT connections_name_check CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'::text)),
    CONSTRAINT connections_service_role_key_hint_check CHECK ((char_length(service_role_key_hint) <= 6)),
    CONSTRAINT connections_url_check CHECK (((char_length(url) <= 2048) AND (url ~ '^https?://'::text)))
);


ALTER TABLE public.connections OWNER TO postgres;

--
-- Name: connection_for_relay(uuid, text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.connection_for_relay(p_user_id uuid, p_name text) RETURNS SETOF public.connections
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  perform private.assert_account_active(p_user_id);
  return query
    select * from public.connections c where c.user_id = p_user_id and c.name = p_name;
end;
$$;


ALTER FUNCTION public.connection_for_relay(p_user_id uuid, p_name text) OWNER TO postgres;

--
-- Name: create_profile_invitation(uuid, uuid, text, text, text, integer, boolean, boolean, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.create_profile_invitation(p_admin uuid, p_profile_id uuid, p_token_hash text, p_email text DEFAULT NULL::text, p_token_encrypted text DEFAULT NULL::text, p_expires_in_days integer DEFAULT NULL::integer, p_replace boolean DEFAULT false, p_send_email boolean DEFAULT false, p_claim_seconds integer DEFAULT 120) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
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
$_$;


ALTER FUNCTION public.create_profile_invitation(p_admin uuid, p_profile_id uuid, p_token_hash text, p_email text, p_token_encrypted text, p_expires_in_days integer, p_replace boolean, p_send_email boolean, p_claim_seconds integer) OWNER TO postgres;

--
-- Name: delete_my_account(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.delete_my_account() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  me uuid := auth.uid();
  authenticated_at bigint;
  revoked integer;
begin
  if me is null then
    raise exception using errcode = '42501', message = 'sign in to delete your account',
      hint = 'not_signed_in';
  end if;
  select max((claim ->> 'timestamp')::bigint) into authenticated_at
    from jsonb_array_elements(coalesce(auth.jwt() -> 'amr', '[]'::jsonb)) as claim;
  if authenticated_at is null or authenticated_at < extract(epoch from now())::bigint - 300 then
    raise exception using errcode = '42501', hint = 'reauthentication_required',
      message = 'sign in again (within 5 minutes) to delete your account';
  end if;
  update public.profile_invitations set status = 'revoked'
    where invited_by = me and status = 'pending';
  get diagnostics revoked = row_count;
  -- The cascade below deletes rows of an account that, mid-statement, is no longer active, which
  -- the blocked-accounts write guard (private.refuse_writes_by_inactive_accounts) refuses for a
  -- user's session; from here on this transaction acts for the service, having checked the user.
  perform set_config('request.jwt.claims', (auth.jwt() || '{"role": "service_role"}')::text, true);
  perform set_config('request.jwt.claim.role', 'service_role', true);
  delete from auth.users where id = me;
  return jsonb_build_object('deleted_user_id', me, 'invitations_revoked', revoked);
end;
$$;


ALTER FUNCTION public.delete_my_account() OWNER TO postgres;

--
-- Name: expire_segmentation_leases(integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.expire_segmentation_leases(p_max_attempts integer DEFAULT 3, p_pending_timeout_seconds integer DEFAULT 86400) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  task public.segmentation_results;
  requeued integer := 0;
  failed integer := 0;
  timed_out integer := 0;
begin
  if p_max_attempts is null or p_max_attempts not between 1 and 100 then
    raise exception using errcode = '22023',
      message = format('p_max_attempts must be between 1 and 100, not %s', p_max_attempts);
  end if;
  if p_pending_timeout_seconds is null or p_pending_timeout_seconds not between 60 and 31536000 then
    raise exception using errcode = '22023',
      message = format('p_pending_timeout_seconds must be between 60 and 31536000, not %s', p_pending_timeout_seconds);
  end if;

  -- Leases that ran out with attempts left: back to the queue.
  with expired as (
    select id from public.segmentation_results
     where status = 'processing' and lease_expires_at < now() and attempt < p_max_attempts
       for update skip locked
  )
  update public.segmentation_results as r
     set status = 'pending', attempt = r.attempt + 1, queued_at = now(), lease_expires_at = null,
         metadata = r.metadata || jsonb_build_object('last_lease_expired_at', now())
    from expired
   where r.id = expired.id;
  get diagnostics requeued = row_count;

  -- The last attempt's lease ran out.
  for task in
    select * from public.segmentation_results
     where status = 'processing' and lease_expires_at < now() and attempt >= p_max_attempts
       for update skip locked
  loop
    perform private.close_open_task(task, 'error',
      format('No result after %s attempts: every lease expired', task.attempt),
      jsonb_build_object('failure', jsonb_build_object(
        'reason', 'attempts_exhausted', 'attempts', task.attempt, 'at', now())));
    failed := failed + 1;
  end loop;

  -- Nobody claimed it in time, or it was reported processing (no lease) and never finished.
  for task in
    select * from public.segmentation_results
     where (status = 'pending' and queued_at < now() - make_interval(secs => p_pending_timeout_seconds))
        or (status = 'processing' and lease_expires_at is null
            and claimed_at < now() - make_interval(secs => p_pending_timeout_seconds))
       for update skip locked
  loop
    perform private.close_open_task(task, 'error',
      case when task.status = 'pending'
        then format('No inference backend picked the task up within %s seconds', p_pending_timeout_seconds)
        else format('The task was reported processing and not finished within %s seconds', p_pending_timeout_seconds)
      end,
      jsonb_build_object('failure', jsonb_build_object(
        'reason', case when task.status = 'pending' then 'pending_timeout' else 'processing_timeout' end,
        'attempts', task.attempt, 'at', now())));
    timed_out := timed_out + 1;
  end loop;

  return jsonb_build_object('requeued', requeued, 'failed', failed, 'timed_out', timed_out);
end;
$$;


ALTER FUNCTION public.expire_segmentation_leases(p_max_attempts integer, p_pending_timeout_seconds integer) OWNER TO postgres;

--
-- Name: extend_segmentation_lease(uuid, integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.extend_segmentation_lease(p_task_id uuid, p_lease_seconds integer DEFAULT 300, p_attempt integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  task public.segmentation_results;
begin
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception using errcode = '22023',
      message = format('p_lease_seconds must be between 30 and 3600, not %s', p_lease_seconds);
  end if;
  select * into task from public.segmentation_results where id = p_task_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'task_not_found',
      message = format('no segmentation task %s', p_task_id);
  end if;
  if task.status <> 'processing' or task.lease_expires_at is null or task.lease_expires_at < now()
     or (p_attempt is not null and p_attempt <> task.attempt) then
    raise exception using errcode = 'PT409', hint = 'lease_lost',
      message = format('task %s is no longer leased to this attempt', p_task_id),
      detail = format('status: %s, attempt: %s, lease expired: %s', task.status, task.attempt,
                      coalesce(task.lease_expires_at < now(), true));
  end if;
  update public.segmentation_results
     set lease_expires_at = greatest(lease_expires_at, now() + make_interval(secs => p_lease_seconds))
   where id = p_task_id
  returning * into task;
  return jsonb_build_object('task_id', task.id, 'lease_expires_at', task.lease_expires_at,
                            'attempt', task.attempt);
end;
$$;


ALTER FUNCTION public.extend_segmentation_lease(p_task_id uuid, p_lease_seconds integer, p_attempt integer) OWNER TO postgres;

--
-- Name: grant_account_role(text, public.account_role); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.grant_account_role(p_email text, p_role public.account_role) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  account public.user_profiles;
  previous public.account_role;
begin
  if p_email is null or btrim(p_email) = '' or p_role is null then
    raise exception using errcode = '22023', message = 'email and role are required';
  end if;
  select * into account
    from public.user_profiles
   where lower(email) = lower(btrim(p_email)) and not is_guest
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'account_not_found',
      message = format('no account with e-mail %s: sign up first', btrim(p_email));
  end if;
  previous := account.role;
  update public.user_profiles set role = p_role where id = account.id;
  return jsonb_build_object('user_id', account.id, 'email', account.email, 'role', p_role,
                            'previous_role', previous);
end;
$$;


ALTER FUNCTION public.grant_account_role(p_email text, p_role public.account_role) OWNER TO postgres;

--
-- Name: grant_monthly_credits(date, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.grant_monthly_credits(p_month date DEFAULT NULL::date, p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  month date := date_trunc('month', coalesce(p_month, (now() at time zone 'utc')::date))::date;
  granted integer;
begin
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception 'p_limit must be between 1 and 100000, not %', p_limit using errcode = '22023';
  end if;
  with due as (
    select p.id, l.monthly_credits
      from public.user_profiles as p
      join public.levels as l on l.level_id = p.level
     where p.state = 'active'
       and (p.credits_granted_for is null or p.credits_granted_for < month)
     order by p.id
     limit p_limit
       for update of p skip locked
  ), done as (
    update public.user_profiles as p
       set credits = greatest(p.credits, due.monthly_credits),
           credits_granted_for = month
      from due
     where p.id = due.id
    returning 1
  )
  select count(*)::integer into granted from done;
  return jsonb_build_object('granted_accounts', granted, 'month', month, 'more', granted = p_limit);
end;
$$;


ALTER FUNCTION public.grant_monthly_credits(p_month date, p_limit integer) OWNER TO postgres;

--
-- Name: handle_new_user(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.handle_new_user() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into public.user_profiles (
    id, email, is_guest, level, full_name, display_name, avatar_url,
    email_verified, phone, phone_verified, last_login_at
  )
  values (
    new.id,
    new.email,
    coalesce(new.is_anonymous, false),
    case when coalesce(new.is_anonymous, false) then 1 else 2 end,
    nullif(new.raw_user_meta_data ->> 'full_name', ''),
    nullif(coalesce(new.raw_user_meta_data ->> 'display_name', new.raw_user_meta_data ->> 'name'), ''),
    case when new.raw_user_meta_data ->> 'avatar_url' ~ '^https?://'
         then new.raw_user_meta_data ->> 'avatar_url' end,
    new.email_confirmed_at is not null,
    nullif(new.phone, ''),
    new.phone_confirmed_at is not null,
    new.last_sign_in_at
  );
  return new;
end;
$$;


ALTER FUNCTION public.handle_new_user() OWNER TO postgres;

--
-- Name: handle_user_updated(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.handle_user_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  upgraded boolean := coalesce(old.is_anonymous, false) and not coalesce(new.is_anonymous, false);
  account_level smallint;
  linked_ids jsonb;
begin
  update public.user_profiles
     set email = new.email,
         is_guest = coalesce(new.is_anonymous, false),
         email_verified = new.email_confirmed_at is not null,
         phone = nullif(new.phone, ''),
         phone_verified = new.phone_confirmed_at is not null,
         last_login_at = new.last_sign_in_at,
         -- A guest becomes a user; a level granted otherwise is never lowered here.
         level = case when upgraded and level = 1 then 2 else level end
   where id = new.id
  returning level into account_level;

  -- No profile (an account older than the profiles): nothing to link to, and the upgrade
  -- itself must not fail because of it.
  if upgraded and found then
    with linked as (
      update public.visitor
         set user_id = new.id,
             linked_to_user = true,
             linked_at = now(),
             linked_by = 'upgrade',
             level = account_level
       where auth_user_id = new.id and not linked_to_user
      returning visitor_id
    )
    select coalesce(jsonb_agg(visitor_id), '[]') into linked_ids from linked;

    update public.user_profiles
       set linked_visitor_ids = public.jsonb_array_union(linked_visitor_ids, linked_ids)
     where id = new.id;
  end if;
  return new;
end;
$$;


ALTER FUNCTION public.handle_user_updated() OWNER TO postgres;

--
-- Name: is_invitation_admin(uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.is_invitation_admin(uid uuid DEFAULT auth.uid()) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if uid is distinct from auth.uid() then
    raise exception using errcode = '42501',
      message = 'is_invitation_admin answers only about the signed-in account';
  end if;
  return private.is_invitation_admin(uid);
end;
$$;


ALTER FUNCTION public.is_invitation_admin(uid uuid) OWNER TO postgres;

--
-- Name: is_my_avatar_path(text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.is_my_avatar_path(object_name text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select (storage.foldername(object_name))[1] = (select auth.uid())::text
     and coalesce(((select auth.jwt()) ->> 'is_anonymous')::boolean, false) = false
$$;


ALTER FUNCTION public.is_my_avatar_path(object_name text) OWNER TO postgres;

--
-- Name: is_my_task_folder(text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.is_my_task_folder(object_name text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select exists (
    select 1 from public.segmentation_results as r
    where r.id::text = (storage.foldername(object_name))[1]
      and r.user_id = (select auth.uid())
  )
$$;


ALTER FUNCTION public.is_my_task_folder(object_name text) OWNER TO postgres;

--
-- Name: jsonb_array_union(jsonb, jsonb); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.jsonb_array_union(a jsonb, b jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select coalesce(jsonb_agg(element order by first_position), '[]')
    from (select element, min(position) as first_position
            from jsonb_array_elements(a || b) with ordinality as t (element, position)
           group by element) as distinct_elements
$$;


ALTER FUNCTION public.jsonb_array_union(a jsonb, b jsonb) OWNER TO postgres;

--
-- Name: jsonb_has_clear_credential(jsonb); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.jsonb_has_clear_credential(payload jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path TO ''
    AS $_$
  select jsonb_path_exists(
    payload,
    'strict $.** ? (@.type() == "object").keyvalue()
       ? (@.key like_regex "^(((access|refresh|id|provider|provider_refresh|session|auth|bearer)_?)?token|password|passwd|secret|client_?secret|api_?key|private_?key|code_?verifier)$" flag "i"
          && @.value.type() != "null"
          && !(@.value.type() == "string"
               && (@.value like_regex "^enc:v1:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{38,}$"
                   || @.value like_regex "^sha256:[0-9a-f]{64}$")))'
  )
$_$;


ALTER FUNCTION public.jsonb_has_clear_credential(payload jsonb) OWNER TO postgres;

--
-- Name: link_signed_in_device(uuid, uuid, inet); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.link_signed_in_device(p_user_id uuid, p_guest_user_id uuid, p_ip inet DEFAULT NULL::inet) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.link_signed_in_device(p_user_id uuid, p_guest_user_id uuid, p_ip inet) OWNER TO postgres;

--
-- Name: link_visitor_to_user(uuid, uuid, uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.link_visitor_to_user(p_user_id uuid, p_visitor_id uuid, p_guest_user_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  account public.user_profiles;
  device public.visitor;
begin
  if p_user_id is null or p_visitor_id is null or p_guest_user_id is null then
    raise exception using errcode = '22023',
      message = 'user_id, visitor_id and guest_user_id are required';
  end if;

  select * into account from public.user_profiles where id = p_user_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'account_not_found',
      message = format('no account %s', p_user_id);
  end if;
  if account.is_guest then
    raise exception using errcode = 'PT409', hint = 'account_is_guest',
      message = format('account %s is a guest; visitors link to full accounts', p_user_id);
  end if;

  select * into device from public.visitor
   where visitor_id = p_visitor_id and auth_user_id = p_guest_user_id
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'visitor_not_found',
      message = format('no visitor %s for guest %s', p_visitor_id, p_guest_user_id);
  end if;

  if device.user_id = p_user_id then
    return jsonb_build_object('visitor_id', device.visitor_id, 'user_id', device.user_id,
      'linked_by', device.linked_by, 'linked_at', device.linked_at, 'already_linked', true);
  end if;
  if device.linked_to_user then
    raise exception using errcode = 'PT409', hint = 'visitor_linked_elsewhere',
      message = format('visitor %s is linked to another account', p_visitor_id);
  end if;

  update public.visitor
     set user_id = p_user_id,
         linked_to_user = true,
         linked_at = now(),
         linked_by = 'sign_in',
         level = account.level
   where visitor_id = p_visitor_id
  returning * into device;

  update public.user_profiles
     set linked_visitor_ids = public.jsonb_array_union(linked_visitor_ids, jsonb_build_array(p_visitor_id))
   where id = p_user_id;

  return jsonb_build_object('visitor_id', device.visitor_id, 'user_id', device.user_id,
    'linked_by', device.linked_by, 'linked_at', device.linked_at, 'already_linked', false);
end;
$$;


ALTER FUNCTION public.link_visitor_to_user(p_user_id uuid, p_visitor_id uuid, p_guest_user_id uuid) OWNER TO postgres;

--
-- Name: list_connections(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.list_connections() RETURNS TABLE(id uuid, name text, url text, allow_writes boolean, anon_key_hint text, service_role_key_hint text, key_id text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  perform private.assert_account_active(auth.uid());
  return query
    select c.id, c.name, c.url, c.allow_writes, c.anon_key_hint, c.service_role_key_hint,
           c.key_id, c.created_at, c.updated_at
      from public.connections c
     where c.user_id = auth.uid()
     order by c.name;
end;
$$;


ALTER FUNCTION public.list_connections() OWNER TO postgres;

--
-- Name: list_profile_invitations(uuid, uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.list_profile_invitations(p_admin uuid, p_profile_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  perform private.require_invitation_admin(p_admin);
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


ALTER FUNCTION public.list_profile_invitations(p_admin uuid, p_profile_id uuid) OWNER TO postgres;

--
-- Name: log_storage_upload(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.log_storage_upload() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into public.usage_logs (user_id, action, credits_used, metadata)
  select p.id, 'upload', 0,
         jsonb_build_object('bucket_id', new.bucket_id, 'name', new.name, 'object_id', new.id,
                            'size', new.metadata -> 'size')
  from public.user_profiles as p
  where p.id::text = new.owner_id;
  return null;
end
$$;


ALTER FUNCTION public.log_storage_upload() OWNER TO postgres;

--
-- Name: prepare_guest_signup(text, integer, integer, jsonb); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.prepare_guest_signup(p_key text, p_limit integer, p_window_secs integer, p_visitor jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  taken jsonb;
  recorded public.visitor;
  claim text;
begin
  taken := public.take_rate_limit_token(p_key, p_limit, p_window_secs);
  if not (taken ->> 'allowed')::boolean then
    return jsonb_build_object('allowed', false, 'retry_after', (taken ->> 'retry_after')::integer);
  end if;

  recorded := private.insert_visitor(null, p_visitor);
  -- Unattached until its account claims it: an orphan to purge if that never happens.
  update public.visitor set expire_at = now() + interval '1 hour'
   where visitor_id = recorded.visitor_id;
  claim := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  insert into private.guest_signup_claims (claim_hash, visitor_id, expires_at)
  values (sha256(convert_to(claim, 'UTF8')), recorded.visitor_id, now() + interval '10 minutes');

  return jsonb_build_object('allowed', true, 'visitor_id', recorded.visitor_id, 'claim', claim);
end;
$$;


ALTER FUNCTION public.prepare_guest_signup(p_key text, p_limit integer, p_window_secs integer, p_visitor jsonb) OWNER TO postgres;

--
-- Name: preview_profile_invitation(text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.preview_profile_invitation(p_token_hash text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.preview_profile_invitation(p_token_hash text) OWNER TO postgres;

--
-- Name: profile_invitation_acceptance_notice(text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.profile_invitation_acceptance_notice(p_token_hash text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('invitation_id', i.id, 'invitee_email', i.email, 'accepted_at', i.accepted_at)
         || (public.profile_invitation_mail_context(i) - 'delivery_key')
    from public.profile_invitations i
    join public.user_profiles u on u.id = i.invited_by and u.email is not null
   where i.token_hash = p_token_hash and i.status = 'accepted';
$$;


ALTER FUNCTION public.profile_invitation_acceptance_notice(p_token_hash text) OWNER TO postgres;

--
-- Name: profile_invitations; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.profile_invitations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    profile_id uuid NOT NULL,
    email text NOT NULL,
    token_hash text NOT NULL,
    token_encrypted text,
    status public.invitation_status DEFAULT 'pending'::public.invitation_status NOT NULL,
    invited_by uuid DEFAULT auth.uid(),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone DEFAULT (now() + '7 days'::interval) NOT NULL,
    accepted_at timestamp with time zone,
    accepted_by uuid,
    revoked_at timestamp with time zone,
    revoked_by uuid,
    delivery_status public.invitation_delivery_status,
    delivery_key text,
    delivery_sends integer DEFAULT 0 NOT NULL,
    delivery_attempts integer DEFAULT 0 NOT NULL,
    delivery_error text,
    delivery_next_attempt_at timestamp with time zone,
    delivery_sent_at timestamp with time zone,
    delivery_message_id text,
    CONSTRAINT profile_invitations_accepted_has_time CHECK (((status = 'accepted'::public.invitation_status) = (accepted_at IS NOT NULL))),
    CONSTRAINT profile_invitations_delivery_attempts_check CHECK ((delivery_attempts >= 0)),
    CONSTRAINT profile_invitations_delivery_error_check CHECK (((delivery_error IS NULL) OR (char_length(delivery_error) <= 500))),
    CONSTRAINT profile_invitations_delivery_message_id_check CHECK (((delivery_message_id IS NULL) OR (char_length(delivery_message_id) <= 200))),
    CONSTRAINT profile_invitations_delivery_sends_check CHECK ((delivery_sends >= 0)),
    CONSTRAINT profile_invitations_email_check CHECK (((char_length(email) <= 320) AND (email ~ '^[^@\s]+@[^@\s]+$'::text) AND (email = lower(email)))),
    CONSTRAINT profile_invitations_expires_after_creation CHECK ((expires_at > created_at)),
    CONSTRAINT profile_invitations_revoked_has_time CHECK (((status = 'revoked'::public.invitation_status) = (revoked_at IS NOT NULL))),
    CONSTRAINT profile_invitations_token_encrypted_check CHECK (((token_encrypted IS NULL) OR (token_encrypted ~ '^enc:v[0-9]+:'::text))),
    CONSTRAINT profile_invitations_token_hash_check CHECK ((token_hash ~ '^[0-9a-f]{64}$'::text))
);


ALTER TABLE public.profile_invitations OWNER TO postgres;

--
-- Name: profile_invitation_mail_context(public.profile_invitations); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.profile_invitation_mail_context(invitation public.profile_invitations) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object(
    'delivery_key', invitation.delivery_key,
    'profile', (select jsonb_build_object('first_name', p.first_name, 'last_name', p.last_name)
                  from public.profiles p where p.id = invitation.profile_id),
    'inviter', (select jsonb_build_object('email', u.email,
                                          'name', coalesce(u.display_name, u.full_name))
                  from public.user_profiles u where u.id = invitation.invited_by));
$$;


ALTER FUNCTION public.profile_invitation_mail_context(invitation public.profile_invitations) OWNER TO postgres;

--
-- Name: profile_invitation_to_json(public.profile_invitations); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.profile_invitation_to_json(invitation public.profile_invitations) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select to_jsonb(invitation) - 'token_hash'
         || jsonb_build_object('status',
              case when invitation.status = 'pending' and invitation.expires_at <= now()
                   then 'expired' else invitation.status::text end);
$$;


ALTER FUNCTION public.profile_invitation_to_json(invitation public.profile_invitations) OWNER TO postgres;

--
-- Name: profile_invitations_status_transition(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.profile_invitations_status_transition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if new.status is distinct from old.status then
    if old.status <> 'pending' then
      raise exception using errcode = 'PT409', hint = 'invitation_not_pending',
        message = format('invitation %s is %s and can no longer change', old.id, old.status),
        detail = old.status::text;
    end if;
    if new.status = 'revoked' then
      new.revoked_at := coalesce(new.revoked_at, now());
      new.revoked_by := coalesce(new.revoked_by, auth.uid());
    elsif new.status = 'accepted' then
      new.accepted_at := coalesce(new.accepted_at, now());
    end if;
  end if;
  return new;
end;
$$;


ALTER FUNCTION public.profile_invitations_status_transition() OWNER TO postgres;

--
-- Name: purge_expired_guests(timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.purge_expired_guests(p_now timestamp with time zone DEFAULT now(), p_limit integer DEFAULT 500) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  guest_ids uuid[];
  deleted_ids uuid[];
  visitors_of_guests integer;
  orphan_visitors integer;
begin
  if p_now is null or p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'now is required and limit must be 1..10000';
  end if;

  select coalesce(array_agg(id), '{}') into guest_ids
    from (select account.id
            from auth.users as account
            left join public.visitor as v on v.auth_user_id = account.id
            cross join lateral (select private.account_last_active_at(account.id) as at) as last_active
           where account.is_anonymous
             and case when v.visitor_id is null
                      then last_active.at + interval '1 day' <= p_now
                      else v.expire_at <= p_now
                           and last_active.at + make_interval(days => v.retention_ttl_days) <= p_now
                 end
           order by last_active.at
           limit p_limit
             for update of account skip locked) as expired;

  delete from public.visitor
   where auth_user_id = any (guest_ids) and not linked_to_user;
  get diagnostics visitors_of_guests = row_count;

  with deleted as (
    delete from auth.users where id = any (guest_ids) and is_anonymous returning id
  )
  select coalesce(array_agg(id), '{}') into deleted_ids from deleted;

  delete from public.visitor
   where visitor_id in (select visitor_id from public.visitor
                         where auth_user_id is null and not linked_to_user and expire_at <= p_now
                         limit p_limit);
  get diagnostics orphan_visitors = row_count;

  return jsonb_build_object(
    'deleted_user_ids', to_jsonb(deleted_ids),
    'deleted_visitors', visitors_of_guests + orphan_visitors,
    'more', cardinality(guest_ids) = p_limit or orphan_visitors = p_limit
  );
end;
$$;


ALTER FUNCTION public.purge_expired_guests(p_now timestamp with time zone, p_limit integer) OWNER TO postgres;

--
-- Name: purge_idle_rate_limit_buckets(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.purge_idle_rate_limit_buckets(p_now timestamp with time zone DEFAULT now()) RETURNS integer
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  with deleted as (
    delete from public.rate_limit_buckets where refilled_at <= p_now returning 1
  )
  select count(*)::integer from deleted
$$;


ALTER FUNCTION public.purge_idle_rate_limit_buckets(p_now timestamp with time zone) OWNER TO postgres;

--
-- Name: purge_old_segmentation_results(integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.purge_old_segmentation_results(p_keep_days integer DEFAULT 90, p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  doomed uuid[];
  deleted integer;
  kept integer;
begin
  if p_keep_days is null or p_keep_days not between 1 and 3650 then
    raise exception 'p_keep_days must be between 1 and 3650, not %', p_keep_days using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception 'p_limit must be between 1 and 100000, not %', p_limit using errcode = '22023';
  end if;

  select coalesce(array_agg(id), '{}') into doomed
    from (select id
            from public.segmentation_results
           where status in ('done', 'error', 'cancelled')
             and created_at < now() - make_interval(days => p_keep_days)
           order by created_at
           limit p_limit
             for update skip locked) as old_results;

  update public.usage_logs as u
     set metadata = u.metadata || jsonb_build_object('result_deleted_id', r.id,
                                                     'result_created_at', r.created_at)
    from public.segmentation_results as r
   where r.id = any (doomed) and u.result_id = r.id;
  get diagnostics kept = row_count;

  delete from public.segmentation_results
   where id = any (doomed) and status in ('done', 'error', 'cancelled');
  get diagnostics deleted = row_count;

  return jsonb_build_object('deleted_results', deleted, 'usage_rows_kept', kept,
                            'more', cardinality(doomed) = p_limit);
end;
$$;


ALTER FUNCTION public.purge_old_segmentation_results(p_keep_days integer, p_limit integer) OWNER TO postgres;

--
-- Name: purge_old_webhook_deliveries(integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.purge_old_webhook_deliveries(p_keep_days integer DEFAULT 30, p_limit integer DEFAULT 5000) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  deleted integer;
begin
  if p_keep_days is null or p_keep_days not between 1 and 3650 then
    raise exception 'p_keep_days must be between 1 and 3650, not %', p_keep_days using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception 'p_limit must be between 1 and 100000, not %', p_limit using errcode = '22023';
  end if;
  with doomed as (
    select delivery_id
    from public.webhook_deliveries
    where received_at < now() - make_interval(days => p_keep_days)
    order by received_at
    limit p_limit
    for update skip locked
  ), gone as (
    delete from public.webhook_deliveries d
    using doomed
    where d.delivery_id = doomed.delivery_id
    returning 1
  )
  select count(*)::integer into deleted from gone;
  return deleted;
end;
$$;


ALTER FUNCTION public.purge_old_webhook_deliveries(p_keep_days integer, p_limit integer) OWNER TO postgres;

--
-- Name: queue_profile_invitation_send(uuid, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.queue_profile_invitation_send(p_invitation_id uuid, p_claim_seconds integer) RETURNS public.profile_invitations
    LANGUAGE sql
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.queue_profile_invitation_send(p_invitation_id uuid, p_claim_seconds integer) OWNER TO postgres;

--
-- Name: record_guest_visitor(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.record_guest_visitor(p_user_id uuid, p_visitor jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  account public.user_profiles;
  recorded public.visitor;
begin
  if p_user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  if p_visitor is null or jsonb_typeof(p_visitor) <> 'object' then
    raise exception using errcode = '22023', message = 'visitor must be a JSON object';
  end if;

  -- Locked so that an upgrade of this account waits for the visitor and then links it.
  select * into account from public.user_profiles where id = p_user_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'account_not_found',
      message = format('no account %s', p_user_id);
  end if;
  if not account.is_guest then
    raise exception using errcode = 'PT409', hint = 'account_not_guest',
      message = format('account %s is not a guest (anonymous) account', p_user_id);
  end if;
  if exists (select from public.visitor where auth_user_id = p_user_id) then
    raise exception using errcode = 'PT409', hint = 'visitor_exists',
      message = format('guest %s already has a visitor', p_user_id);
  end if;

  recorded := private.insert_visitor(p_user_id, p_visitor);
  perform private.grant_trial_credits(p_user_id);

  return jsonb_build_object(
    'visitor_id', recorded.visitor_id,
    'auth_user_id', recorded.auth_user_id,
    'level', 'guest',
    'first_seen_at', recorded.first_seen_at,
    'expire_at', recorded.expire_at
  );
end;
$$;


ALTER FUNCTION public.record_guest_visitor(p_user_id uuid, p_visitor jsonb) OWNER TO postgres;

--
-- Name: record_profile_invitation_delivery(uuid, text, boolean, text, boolean, text); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.record_profile_invitation_delivery(p_invitation_id uuid, p_delivery_key text, p_sent boolean, p_error text DEFAULT NULL::text, p_permanent boolean DEFAULT false, p_message_id text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.record_profile_invitation_delivery(p_invitation_id uuid, p_delivery_key text, p_sent boolean, p_error text, p_permanent boolean, p_message_id text) OWNER TO postgres;

--
-- Name: release_task_credit(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.release_task_credit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if old.credits_reserved > 0 then
    update public.user_profiles
       set credits_reserved = credits_reserved - old.credits_reserved
     where id = old.user_id;
  end if;
  return old;
end;
$$;


ALTER FUNCTION public.release_task_credit() OWNER TO postgres;

--
-- Name: resend_profile_invitation(uuid, uuid, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.resend_profile_invitation(p_admin uuid, p_profile_id uuid, p_claim_seconds integer DEFAULT 120) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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


ALTER FUNCTION public.resend_profile_invitation(p_admin uuid, p_profile_id uuid, p_claim_seconds integer) OWNER TO postgres;

--
-- Name: reserve_task_credit(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.reserve_task_credit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  new.credits_reserved := 0;
  if auth.uid() is not null and new.user_id is distinct from auth.uid() then
    return new;
  end if;
  update public.user_profiles
     set credits_reserved = credits_reserved + 1
   where id = new.user_id
     and credits - credits_reserved >= 1;
  if not found then
    if exists (select from public.user_profiles where id = new.user_id) then
      raise exception using errcode = 'PT402', hint = 'no_credits_left',
        message = 'No credits left',
        detail = 'Every credit of this account is spent or held by a task still running.';
    end if;
    -- No profile: the foreign key refuses the row.
    return new;
  end if;
  new.credits_reserved := 1;
  return new;
end;
$$;


ALTER FUNCTION public.reserve_task_credit() OWNER TO postgres;

--
-- Name: revoke_profile_invitation(uuid, uuid); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.revoke_profile_invitation(p_admin uuid, p_invitation_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  invitation public.profile_invitations;
  current_status text;
begin
  perform private.require_invitation_admin(p_admin);

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


ALTER FUNCTION public.revoke_profile_invitation(p_admin uuid, p_invitation_id uuid) OWNER TO postgres;

--
-- Name: save_connection(uuid, text, text, text, text, text, text, text, smallint, boolean); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.save_connection(p_user_id uuid, p_name text, p_url text, p_anon_key_encrypted text, p_service_role_key_encrypted text, p_anon_key_hint text, p_service_role_key_hint text, p_key_id text, p_key_binding smallint, p_allow_writes boolean DEFAULT NULL::boolean) RETURNS TABLE(id uuid, name text, url text, allow_writes boolean, anon_key_hint text, service_role_key_hint text, key_id text, created_at timestamp with time zone, updated_at timestamp with time zone)
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select private.assert_account_active(p_user_id);
  insert into public.connections as c
    (user_id, name, url, allow_writes, anon_key_encrypted, service_role_key_encrypted,
     anon_key_hint, service_role_key_hint, key_id, key_binding)
  values
    (p_user_id, p_name, p_url, coalesce(p_allow_writes, false), p_anon_key_encrypted,
     p_service_role_key_encrypted, p_anon_key_hint, p_service_role_key_hint, p_key_id,
     p_key_binding)
  on conflict (user_id, name) do update set
    url = p_url,
    allow_writes = coalesce(p_allow_writes, c.allow_writes),
    anon_key_encrypted = p_anon_key_encrypted,
    service_role_key_encrypted = p_service_role_key_encrypted,
    anon_key_hint = p_anon_key_hint,
    service_role_key_hint = p_service_role_key_hint,
    key_id = p_key_id,
    key_binding = p_key_binding
  returning c.id, c.name, c.url, c.allow_writes, c.anon_key_hint, c.service_role_key_hint,
            c.key_id, c.created_at, c.updated_at
$$;


ALTER FUNCTION public.save_connection(p_user_id uuid, p_name text, p_url text, p_anon_key_encrypted text, p_service_role_key_encrypted text, p_anon_key_hint text, p_service_role_key_hint text, p_key_id text, p_key_binding smallint, p_allow_writes boolean) OWNER TO postgres;

--
-- Name: take_rate_limit_token(text, integer, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.take_rate_limit_token(p_key text, p_limit integer, p_window_secs integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  window_length interval;
  token_interval interval;
  checked_at timestamptz;
  refilled timestamptz;
  after_this_one timestamptz;
begin
  if p_key is null or p_key !~ '^[a-z][a-z0-9_-]{0,39}:[0-9a-f]{64}$' then
    raise exception using errcode = '22023',
      message = 'key must be ''<scope>:<64 lowercase hex>'' (a keyed hash, never an IP address)';
  end if;
  if p_limit is null or p_limit not between 1 and 100000
     or p_window_secs is null or p_window_secs not between 1 and 604800 then
    raise exception using errcode = '22023',
      message = 'limit must be 1..100000 and window_secs 1..604800';
  end if;
  window_length := make_interval(secs => p_window_secs);
  token_interval := window_length / p_limit;

  insert into public.rate_limit_buckets (bucket_key, refilled_at)
  values (p_key, clock_timestamp())
  on conflict (bucket_key) do nothing;
  select refilled_at into refilled from public.rate_limit_buckets where bucket_key = p_key for update;
  -- Read after the lock: time spent waiting for it counts as refill.
  checked_at := clock_timestamp();

  after_this_one := greatest(refilled, checked_at) + token_interval;
  if after_this_one > checked_at + window_length then
    return jsonb_build_object(
      'allowed', false,
      'remaining', 0,
      'retry_after', greatest(1, ceil(extract(epoch from after_this_one - window_length - checked_at)))::integer
    );
  end if;

  update public.rate_limit_buckets set refilled_at = after_this_one where bucket_key = p_key;
  return jsonb_build_object(
    'allowed', true,
    'remaining', floor(extract(epoch from checked_at + window_length - after_this_one)
                       / extract(epoch from token_interval))::integer,
    'retry_after', 0
  );
end;
$_$;


ALTER FUNCTION public.take_rate_limit_token(p_key text, p_limit integer, p_window_secs integer) OWNER TO postgres;

--
-- Name: update_updated_at(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.update_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  new.updated_at = now();
  return new;
end;
$$;


ALTER FUNCTION public.update_updated_at() OWNER TO postgres;

--
-- Name: guest_signup_claims; Type: TABLE; Schema: private; Owner: postgres
--

CREATE TABLE private.guest_signup_claims (
    claim_hash bytea NOT NULL,
    visitor_id uuid NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT guest_signup_claims_claim_hash_check CHECK ((octet_length(claim_hash) = 32))
);


ALTER TABLE private.guest_signup_claims OWNER TO postgres;

--
-- Name: auth_vault; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.auth_vault (
    artifact_id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    provider public.auth_vault_provider NOT NULL,
    kind public.auth_vault_kind NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    status public.auth_vault_status DEFAULT 'active'::public.auth_vault_status NOT NULL,
    expires_at timestamp with time zone,
    last_seen_at timestamp with time zone,
    notes text,
    CONSTRAINT auth_vault_notes_check CHECK (((notes IS NULL) OR (char_length(notes) <= 2000))),
    CONSTRAINT auth_vault_payload_no_clear_credentials CHECK ((NOT public.jsonb_has_clear_credential(payload))),
    CONSTRAINT auth_vault_payload_size CHECK ((pg_column_size(payload) <= 65536))
);


ALTER TABLE public.auth_vault OWNER TO postgres;

--
-- Name: levels; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.levels (
    level_id smallint NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    description text,
    is_active boolean DEFAULT true NOT NULL,
    sort_order smallint DEFAULT 0 NOT NULL,
    tier public.account_tier NOT NULL,
    starting_credits integer DEFAULT 0 NOT NULL,
    monthly_credits integer DEFAULT 0 NOT NULL,
    CONSTRAINT levels_code_check CHECK ((code ~ '^[a-z][a-z0-9_]{0,31}$'::text)),
    CONSTRAINT levels_description_check CHECK (((description IS NULL) OR (char_length(description) <= 1000))),
    CONSTRAINT levels_level_id_check CHECK ((level_id > 0)),
    CONSTRAINT levels_monthly_credits_check CHECK (((monthly_credits >= 0) AND (monthly_credits <= 1000000))),
    CONSTRAINT levels_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 100))),
    CONSTRAINT levels_starting_credits_check CHECK (((starting_credits >= 0) AND (starting_credits <= 1000000)))
);


ALTER TABLE public.levels OWNER TO postgres;

--
-- Name: profiles; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.profiles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    first_name text NOT NULL,
    last_name text,
    email text,
    user_id uuid,
    created_by uuid DEFAULT auth.uid(),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT profiles_email_check CHECK (((email IS NULL) OR ((char_length(email) <= 320) AND (email ~ '^[^@\s]+@[^@\s]+$'::text)))),
    CONSTRAINT profiles_first_name_check CHECK (((char_length(first_name) >= 1) AND (char_length(first_name) <= 100))),
    CONSTRAINT profiles_last_name_check CHECK (((last_name IS NULL) OR (char_length(last_name) <= 100)))
);


ALTER TABLE public.profiles OWNER TO postgres;

--
-- Name: projects; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.projects (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    name text NOT NULL,
    description text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT projects_description_check CHECK (((description IS NULL) OR (char_length(description) <= 2000))),
    CONSTRAINT projects_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200)))
);


ALTER TABLE public.projects OWNER TO postgres;

--
-- Name: rate_limit_buckets; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.rate_limit_buckets (
    bucket_key text NOT NULL,
    refilled_at timestamp with time zone NOT NULL,
    CONSTRAINT rate_limit_buckets_bucket_key_check CHECK ((bucket_key ~ '^[a-z][a-z0-9_-]{0,39}:[0-9a-f]{64}$'::text))
);


ALTER TABLE public.rate_limit_buckets OWNER TO postgres;

--
-- Name: usage_logs; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.usage_logs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    action public.usage_action NOT NULL,
    credits_used integer NOT NULL,
    result_id uuid,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT usage_logs_credits_used_check CHECK ((credits_used >= 0)),
    CONSTRAINT usage_logs_metadata_check CHECK ((jsonb_typeof(metadata) = 'object'::text))
);


ALTER TABLE public.usage_logs OWNER TO postgres;

--
-- Name: user_profiles; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.user_profiles (
    id uuid NOT NULL,
    email text,
    username text,
    full_name text,
    display_name text,
    avatar_url text,
    bio text,
    locale text,
    timezone text,
    is_guest boolean DEFAULT false NOT NULL,
    state public.account_state DEFAULT 'active'::public.account_state NOT NULL,
    last_login_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    tier public.account_tier DEFAULT 'free'::public.account_tier NOT NULL,
    credits integer DEFAULT 10 NOT NULL,
    role public.account_role DEFAULT 'user'::public.account_role NOT NULL,
    level smallint DEFAULT 2 NOT NULL,
    email_verified boolean DEFAULT false NOT NULL,
    phone text,
    phone_verified boolean DEFAULT false NOT NULL,
    plan_code text,
    paid_until timestamp with time zone,
    feature_flags text[] DEFAULT '{}'::text[] NOT NULL,
    limits jsonb DEFAULT '{}'::jsonb NOT NULL,
    last_ip inet,
    trusted_devices jsonb DEFAULT '[]'::jsonb NOT NULL,
    linked_visitor_ids jsonb DEFAULT '[]'::jsonb NOT NULL,
    consents jsonb DEFAULT '{}'::jsonb NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    notes text,
    deleted_at timestamp with time zone,
    credits_reserved integer DEFAULT 0 NOT NULL,
    credits_granted_for date,
    starting_credits_received boolean DEFAULT true NOT NULL,
    CONSTRAINT user_profiles_avatar_url_check CHECK (((avatar_url IS NULL) OR (avatar_url ~ '^https?://'::text))),
    CONSTRAINT user_profiles_bio_check CHECK (((bio IS NULL) OR (char_length(bio) <= 2000))),
    CONSTRAINT user_profiles_consents_check CHECK ((jsonb_typeof(consents) = 'object'::text)),
    CONSTRAINT user_profiles_credits_not_negative CHECK ((credits >= 0)),
    CONSTRAINT user_profiles_credits_reserved_covered CHECK (((credits_reserved >= 0) AND (credits_reserved <= credits))),
    CONSTRAINT user_profiles_display_name_check CHECK (((display_name IS NULL) OR (char_length(display_name) <= 100))),
    CONSTRAINT user_profiles_feature_flags_check CHECK ((cardinality(feature_flags) <= 100)),
    CONSTRAINT user_profiles_full_name_check CHECK (((full_name IS NULL) OR (char_length(full_name) <= 200))),
    CONSTRAINT user_profiles_limits_check CHECK ((jsonb_typeof(limits) = 'object'::text)),
    CONSTRAINT user_profiles_linked_visitor_ids_check CHECK ((jsonb_typeof(linked_visitor_ids) = 'array'::text)),
    CONSTRAINT user_profiles_locale_check CHECK (((locale IS NULL) OR (char_length(locale) <= 35))),
    CONSTRAINT user_profiles_notes_check CHECK (((notes IS NULL) OR (char_length(notes) <= 4000))),
    CONSTRAINT user_profiles_phone_check CHECK (((phone IS NULL) OR (char_length(phone) <= 32))),
    CONSTRAINT user_profiles_plan_code_check CHECK (((plan_code IS NULL) OR (plan_code ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'::text))),
    CONSTRAINT user_profiles_tags_check CHECK ((cardinality(tags) <= 100)),
    CONSTRAINT user_profiles_timezone_check CHECK (((timezone IS NULL) OR (char_length(timezone) <= 64))),
    CONSTRAINT user_profiles_trusted_devices_check CHECK ((jsonb_typeof(trusted_devices) = 'array'::text)),
    CONSTRAINT user_profiles_username_check CHECK (((username IS NULL) OR (username ~ '^[A-Za-z0-9_.-]{3,32}$'::text)))
);


ALTER TABLE public.user_profiles OWNER TO postgres;

--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.webhook_deliveries (
    delivery_id text NOT NULL,
    task_id uuid NOT NULL,
    status public.segmentation_status NOT NULL,
    outcome jsonb NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_deliveries_delivery_id_check CHECK (((char_length(delivery_id) >= 1) AND (char_length(delivery_id) <= 255)))
);


ALTER TABLE public.webhook_deliveries OWNER TO postgres;

--
-- Name: guest_signup_claims guest_signup_claims_pkey; Type: CONSTRAINT; Schema: private; Owner: postgres
--

ALTER TABLE ONLY private.guest_signup_claims
    ADD CONSTRAINT guest_signup_claims_pkey PRIMARY KEY (claim_hash);


--
-- Name: guest_signup_claims guest_signup_claims_visitor_id_key; Type: CONSTRAINT; Schema: private; Owner: postgres
--

ALTER TABLE ONLY private.guest_signup_claims
    ADD CONSTRAINT guest_signup_claims_visitor_id_key UNIQUE (visitor_id);


--
-- Name: auth_vault auth_vault_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.auth_vault
    ADD CONSTRAINT auth_vault_pkey PRIMARY KEY (artifact_id);


--
-- Name: connections connections_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.connections
    ADD CONSTRAINT connections_pkey PRIMARY KEY (id);


--
-- Name: connections connections_url_is_an_origin; Type: CHECK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE public.connections
    ADD CONSTRAINT connections_url_is_an_origin CHECK ((url ~ '^https?://[^/?#@\\[:space:]]+$'::text)) NOT VALID;


--
-- Name: connections connections_user_id_name_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.connections
    ADD CONSTRAINT connections_user_id_name_key UNIQUE (user_id, name);


--
-- Name: levels levels_code_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.levels
    ADD CONSTRAINT levels_code_key UNIQUE (code);


--
-- Name: levels levels_level_id_tier_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.levels
    ADD CONSTRAINT levels_level_id_tier_key UNIQUE (level_id, tier);


--
-- Name: levels levels_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.levels
    ADD CONSTRAINT levels_pkey PRIMARY KEY (level_id);


--
-- Name: profile_invitations profile_invitations_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profile_invitations
    ADD CONSTRAINT profile_invitations_pkey PRIMARY KEY (id);


--
-- Name: profile_invitations profile_invitations_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profile_invitations
    ADD CONSTRAINT profile_invitations_token_hash_key UNIQUE (token_hash);


--
-- Name: profiles profiles_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_pkey PRIMARY KEY (id);


--
-- Name: profiles profiles_user_id_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_user_id_key UNIQUE (user_id);


--
-- Name: projects projects_id_user_id_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_id_user_id_key UNIQUE (id, user_id);


--
-- Name: projects projects_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);


--
-- Name: rate_limit_buckets rate_limit_buckets_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.rate_limit_buckets
    ADD CONSTRAINT rate_limit_buckets_pkey PRIMARY KEY (bucket_key);


--
-- Name: segmentation_results segmentation_results_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.segmentation_results
    ADD CONSTRAINT segmentation_results_pkey PRIMARY KEY (id);


--
-- Name: usage_logs usage_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.usage_logs
    ADD CONSTRAINT usage_logs_pkey PRIMARY KEY (id);


--
-- Name: user_profiles user_profiles_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_pkey PRIMARY KEY (id);


--
-- Name: user_profiles user_profiles_username_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_username_key UNIQUE (username);


--
-- Name: visitor visitor_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.visitor
    ADD CONSTRAINT visitor_pkey PRIMARY KEY (visitor_id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (delivery_id);


--
-- Name: auth_vault_kind_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX auth_vault_kind_idx ON public.auth_vault USING btree (kind);


--
-- Name: auth_vault_provider_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX auth_vault_provider_idx ON public.auth_vault USING btree (provider);


--
-- Name: auth_vault_user_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX auth_vault_user_id_idx ON public.auth_vault USING btree (user_id);


--
-- Name: connections_key_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX connections_key_id_idx ON public.connections USING btree (key_id);


--
-- Name: profile_invitations_delivery_due_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX profile_invitations_delivery_due_idx ON public.profile_invitations USING btree (delivery_next_attempt_at) WHERE ((status = 'pending'::public.invitation_status) AND (delivery_status = ANY (ARRAY['queued'::public.invitation_delivery_status, 'failed'::public.invitation_delivery_status])));


--
-- Name: profile_invitations_one_pending_per_profile; Type: INDEX; Schema: public; Owner: postgres
--

CREATE UNIQUE INDEX profile_invitations_one_pending_per_profile ON public.profile_invitations USING btree (profile_id) WHERE (status = 'pending'::public.invitation_status);


--
-- Name: profile_invitations_profile_id_created_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX profile_invitations_profile_id_created_at_idx ON public.profile_invitations USING btree (profile_id, created_at DESC);


--
-- Name: profiles_email_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX profiles_email_idx ON public.profiles USING btree (lower(email));


--
-- Name: projects_user_id_created_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX projects_user_id_created_at_idx ON public.projects USING btree (user_id, created_at DESC);


--
-- Name: rate_limit_buckets_refilled_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX rate_limit_buckets_refilled_at_idx ON public.rate_limit_buckets USING btree (refilled_at);


--
-- Name: segmentation_results_cancelled_created_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX segmentation_results_cancelled_created_at_idx ON public.segmentation_results USING btree (created_at) WHERE (status = 'cancelled'::public.segmentation_status);


--
-- Name: segmentation_results_finished_created_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX segmentation_results_finished_created_at_idx ON public.segmentation_results USING btree (created_at) WHERE (status = ANY (ARRAY['done'::public.segmentation_status, 'error'::public.segmentation_status]));


--
-- Name: segmentation_results_leases_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX segmentation_results_leases_idx ON public.segmentation_results USING btree (lease_expires_at) WHERE (status = 'processing'::public.segmentation_status);


--
-- Name: segmentation_results_project_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX segmentation_results_project_id_idx ON public.segmentation_results USING btree (project_id) WHERE (project_id IS NOT NULL);


--
-- Name: segmentation_results_queue_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX segmentation_results_queue_idx ON public.segmentation_results USING btree (queued_at, id) WHERE (status = 'pending'::public.segmentation_status);


--
-- Name: segmentation_results_user_id_created_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX segmentation_results_user_id_created_at_idx ON public.segmentation_results USING btree (user_id, created_at DESC);


--
-- Name: usage_logs_one_segmentation_charge_per_result; Type: INDEX; Schema: public; Owner: postgres
--

CREATE UNIQUE INDEX usage_logs_one_segmentation_charge_per_result ON public.usage_logs USING btree (result_id) WHERE (action = 'segmentation'::public.usage_action);


--
-- Name: usage_logs_result_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX usage_logs_result_id_idx ON public.usage_logs USING btree (result_id);


--
-- Name: usage_logs_user_id_created_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX usage_logs_user_id_created_at_idx ON public.usage_logs USING btree (user_id, created_at DESC);


--
-- Name: user_profiles_email_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX user_profiles_email_idx ON public.user_profiles USING btree (lower(email));


--
-- Name: user_profiles_feature_flags_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX user_profiles_feature_flags_idx ON public.user_profiles USING gin (feature_flags);


--
-- Name: user_profiles_last_login_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX user_profiles_last_login_at_idx ON public.user_profiles USING btree (last_login_at);


--
-- Name: user_profiles_level_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX user_profiles_level_idx ON public.user_profiles USING btree (level);


--
-- Name: user_profiles_state_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX user_profiles_state_idx ON public.user_profiles USING btree (state);


--
-- Name: visitor_auth_user_id_key; Type: INDEX; Schema: public; Owner: postgres
--

CREATE UNIQUE INDEX visitor_auth_user_id_key ON public.visitor USING btree (auth_user_id);


--
-- Name: visitor_expire_at_unlinked_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX visitor_expire_at_unlinked_idx ON public.visitor USING btree (expire_at) WHERE (NOT linked_to_user);


--
-- Name: visitor_first_seen_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX visitor_first_seen_at_idx ON public.visitor USING btree (first_seen_at);


--
-- Name: visitor_tags_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX visitor_tags_idx ON public.visitor USING gin (tags);


--
-- Name: visitor_user_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX visitor_user_id_idx ON public.visitor USING btree (user_id);


--
-- Name: webhook_deliveries_received_at_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX webhook_deliveries_received_at_idx ON public.webhook_deliveries USING btree (received_at);


--
-- Name: webhook_deliveries_task_id_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX webhook_deliveries_task_id_idx ON public.webhook_deliveries USING btree (task_id);


--
-- Name: users on_auth_user_created; Type: TRIGGER; Schema: auth; Owner: supabase_auth_admin
--

CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();


--
-- Name: users on_auth_user_guest_claim; Type: TRIGGER; Schema: auth; Owner: supabase_auth_admin
--

CREATE TRIGGER on_auth_user_guest_claim AFTER INSERT ON auth.users FOR EACH ROW WHEN ((new.raw_user_meta_data ? 'guest_signup_claim'::text)) EXECUTE FUNCTION private.claim_guest_visitor();


--
-- Name: users on_auth_user_updated; Type: TRIGGER; Schema: auth; Owner: supabase_auth_admin
--

CREATE TRIGGER on_auth_user_updated AFTER UPDATE OF email, email_confirmed_at, phone, phone_confirmed_at, last_sign_in_at, is_anonymous ON auth.users FOR EACH ROW WHEN ((((old.email)::text IS DISTINCT FROM (new.email)::text) OR (old.email_confirmed_at IS DISTINCT FROM new.email_confirmed_at) OR (old.phone IS DISTINCT FROM new.phone) OR (old.phone_confirmed_at IS DISTINCT FROM new.phone_confirmed_at) OR (old.last_sign_in_at IS DISTINCT FROM new.last_sign_in_at) OR (old.is_anonymous IS DISTINCT FROM new.is_anonymous))) EXECUTE FUNCTION public.handle_user_updated();


--
-- Name: connections connections_updated_at; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER connections_updated_at BEFORE UPDATE ON public.connections FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();


--
-- Name: profile_invitations profile_invitations_status_transition; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER profile_invitations_status_transition BEFORE UPDATE ON public.profile_invitations FOR EACH ROW EXECUTE FUNCTION public.profile_invitations_status_transition();


--
-- Name: profiles profiles_updated_at; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER profiles_updated_at BEFORE UPDATE ON public.profiles FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();


--
-- Name: projects projects_updated_at; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER projects_updated_at BEFORE UPDATE ON public.projects FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();


--
-- Name: connections refuse_writes_by_inactive_accounts; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER refuse_writes_by_inactive_accounts BEFORE INSERT OR DELETE OR UPDATE ON public.connections FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_writes_by_inactive_accounts();


--
-- Name: profile_invitations refuse_writes_by_inactive_accounts; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER refuse_writes_by_inactive_accounts BEFORE INSERT OR DELETE OR UPDATE ON public.profile_invitations FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_writes_by_inactive_accounts();


--
-- Name: profiles refuse_writes_by_inactive_accounts; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER refuse_writes_by_inactive_accounts BEFORE INSERT OR DELETE OR UPDATE ON public.profiles FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_writes_by_inactive_accounts();


--
-- Name: projects refuse_writes_by_inactive_accounts; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER refuse_writes_by_inactive_accounts BEFORE INSERT OR DELETE OR UPDATE ON public.projects FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_writes_by_inactive_accounts();


--
-- Name: segmentation_results refuse_writes_by_inactive_accounts; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER refuse_writes_by_inactive_accounts BEFORE INSERT OR DELETE OR UPDATE ON public.segmentation_results FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_writes_by_inactive_accounts();


--
-- Name: user_profiles refuse_writes_by_inactive_accounts; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER refuse_writes_by_inactive_accounts BEFORE INSERT OR DELETE OR UPDATE ON public.user_profiles FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_writes_by_inactive_accounts();


--
-- Name: segmentation_results segmentation_results_check_source_image; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER segmentation_results_check_source_image BEFORE INSERT OR UPDATE OF source_image_path ON public.segmentation_results FOR EACH ROW EXECUTE FUNCTION private.check_task_source_image();


--
-- Name: segmentation_results segmentation_results_release_credit; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER segmentation_results_release_credit AFTER DELETE ON public.segmentation_results FOR EACH ROW EXECUTE FUNCTION public.release_task_credit();


--
-- Name: segmentation_results segmentation_results_reserve_credit; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER segmentation_results_reserve_credit BEFORE INSERT ON public.segmentation_results FOR EACH ROW EXECUTE FUNCTION public.reserve_task_credit();


--
-- Name: segmentation_results segmentation_results_updated_at; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER segmentation_results_updated_at BEFORE UPDATE ON public.segmentation_results FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();


--
-- Name: user_profiles user_profiles_level_plan; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER user_profiles_level_plan BEFORE INSERT OR UPDATE OF level, tier ON public.user_profiles FOR EACH ROW EXECUTE FUNCTION public.apply_level_plan();


--
-- Name: user_profiles user_profiles_sync_account_ban; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER user_profiles_sync_account_ban AFTER UPDATE OF state, deleted_at ON public.user_profiles FOR EACH ROW WHEN (((old.state IS DISTINCT FROM new.state) OR (old.deleted_at IS DISTINCT FROM new.deleted_at))) EXECUTE FUNCTION private.sync_account_ban();


--
-- Name: user_profiles user_profiles_updated_at; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER user_profiles_updated_at BEFORE UPDATE ON public.user_profiles FOR EACH ROW EXECUTE FUNCTION public.update_updated_at();


--
-- Name: objects log_upload_on_insert; Type: TRIGGER; Schema: storage; Owner: postgres
--

CREATE TRIGGER log_upload_on_insert AFTER INSERT ON storage.objects FOR EACH ROW WHEN ((new.owner_id IS NOT NULL)) EXECUTE FUNCTION public.log_storage_upload();


--
-- Name: objects log_upload_on_new_version; Type: TRIGGER; Schema: storage; Owner: postgres
--

CREATE TRIGGER log_upload_on_new_version AFTER UPDATE ON storage.objects FOR EACH ROW WHEN (((new.owner_id IS NOT NULL) AND (new.version IS DISTINCT FROM old.version))) EXECUTE FUNCTION public.log_storage_upload();


--
-- Name: guest_signup_claims guest_signup_claims_visitor_id_fkey; Type: FK CONSTRAINT; Schema: private; Owner: postgres
--

ALTER TABLE ONLY private.guest_signup_claims
    ADD CONSTRAINT guest_signup_claims_visitor_id_fkey FOREIGN KEY (visitor_id) REFERENCES public.visitor(visitor_id) ON DELETE CASCADE;


--
-- Name: auth_vault auth_vault_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.auth_vault
    ADD CONSTRAINT auth_vault_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_profiles(id) ON DELETE CASCADE;


--
-- Name: connections connections_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.connections
    ADD CONSTRAINT connections_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: profile_invitations profile_invitations_accepted_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profile_invitations
    ADD CONSTRAINT profile_invitations_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES auth.users(id) ON DELETE SET NULL;


--
-- Name: profile_invitations profile_invitations_invited_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profile_invitations
    ADD CONSTRAINT profile_invitations_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES auth.users(id) ON DELETE SET NULL;


--
-- Name: profile_invitations profile_invitations_profile_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profile_invitations
    ADD CONSTRAINT profile_invitations_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES public.profiles(id) ON DELETE CASCADE;


--
-- Name: profile_invitations profile_invitations_revoked_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profile_invitations
    ADD CONSTRAINT profile_invitations_revoked_by_fkey FOREIGN KEY (revoked_by) REFERENCES auth.users(id) ON DELETE SET NULL;


--
-- Name: profiles profiles_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_created_by_fkey FOREIGN KEY (created_by) REFERENCES auth.users(id) ON DELETE SET NULL;


--
-- Name: profiles profiles_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE SET NULL;


--
-- Name: projects projects_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_profiles(id) ON DELETE CASCADE;


--
-- Name: segmentation_results segmentation_results_project_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.segmentation_results
    ADD CONSTRAINT segmentation_results_project_fkey FOREIGN KEY (project_id, user_id) REFERENCES public.projects(id, user_id) ON DELETE SET NULL (project_id);


--
-- Name: segmentation_results segmentation_results_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.segmentation_results
    ADD CONSTRAINT segmentation_results_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_profiles(id) ON DELETE CASCADE;


--
-- Name: usage_logs usage_logs_result_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.usage_logs
    ADD CONSTRAINT usage_logs_result_id_fkey FOREIGN KEY (result_id) REFERENCES public.segmentation_results(id) ON DELETE SET NULL;


--
-- Name: usage_logs usage_logs_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.usage_logs
    ADD CONSTRAINT usage_logs_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_profiles(id) ON DELETE CASCADE;


--
-- Name: user_profiles user_profiles_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_id_fkey FOREIGN KEY (id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: user_profiles user_profiles_level_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_level_fkey FOREIGN KEY (level) REFERENCES public.levels(level_id);


--
-- Name: user_profiles user_profiles_level_tier_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_profiles
    ADD CONSTRAINT user_profiles_level_tier_fkey FOREIGN KEY (level, tier) REFERENCES public.levels(level_id, tier) ON UPDATE CASCADE;


--
-- Name: visitor visitor_auth_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.visitor
    ADD CONSTRAINT visitor_auth_user_id_fkey FOREIGN KEY (auth_user_id) REFERENCES auth.users(id) ON DELETE SET NULL;


--
-- Name: visitor visitor_level_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.visitor
    ADD CONSTRAINT visitor_level_fkey FOREIGN KEY (level) REFERENCES public.levels(level_id);


--
-- Name: visitor visitor_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.visitor
    ADD CONSTRAINT visitor_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_profiles(id) ON DELETE CASCADE;


--
-- Name: webhook_deliveries webhook_deliveries_task_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_task_id_fkey FOREIGN KEY (task_id) REFERENCES public.segmentation_results(id) ON DELETE CASCADE;


--
-- Name: guest_signup_claims; Type: ROW SECURITY; Schema: private; Owner: postgres
--

ALTER TABLE private.guest_signup_claims ENABLE ROW LEVEL SECURITY;

--
-- Name: profiles Admins and the linked account read profiles; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Admins and the linked account read profiles" ON public.profiles FOR SELECT TO authenticated USING ((( SELECT public.is_invitation_admin() AS is_invitation_admin) OR (( SELECT auth.uid() AS uid) = user_id)));


--
-- Name: profiles Admins create profiles; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Admins create profiles" ON public.profiles FOR INSERT TO authenticated WITH CHECK (( SELECT public.is_invitation_admin() AS is_invitation_admin));


--
-- Name: profile_invitations Admins read invitations; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Admins read invitations" ON public.profile_invitations FOR SELECT TO authenticated USING (( SELECT public.is_invitation_admin() AS is_invitation_admin));


--
-- Name: profiles Admins update profiles; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Admins update profiles" ON public.profiles FOR UPDATE TO authenticated USING (( SELECT public.is_invitation_admin() AS is_invitation_admin)) WITH CHECK (( SELECT public.is_invitation_admin() AS is_invitation_admin));


--
-- Name: levels Anyone reads levels; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Anyone reads levels" ON public.levels FOR SELECT TO anon, authenticated USING (true);


--
-- Name: visitor Guests and linked accounts read their visitors; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Guests and linked accounts read their visitors" ON public.visitor FOR SELECT TO authenticated USING (((( SELECT auth.uid() AS uid) = auth_user_id) OR (( SELECT auth.uid() AS uid) = user_id)));


--
-- Name: connections Owners add connections; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Owners add connections" ON public.connections FOR INSERT TO authenticated WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: connections Owners change their connections; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Owners change their connections" ON public.connections FOR UPDATE TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: connections Owners delete their connections; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Owners delete their connections" ON public.connections FOR DELETE TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: auth_vault Owners read their auth artifacts; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Owners read their auth artifacts" ON public.auth_vault FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: connections Owners read their connections; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Owners read their connections" ON public.connections FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: projects Users create their own projects; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users create their own projects" ON public.projects FOR INSERT TO authenticated WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: segmentation_results Users create their own results; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users create their own results" ON public.segmentation_results FOR INSERT TO authenticated WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: projects Users delete their own projects; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users delete their own projects" ON public.projects FOR DELETE TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: segmentation_results Users delete their own results; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users delete their own results" ON public.segmentation_results FOR DELETE TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: user_profiles Users read their own profile; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users read their own profile" ON public.user_profiles FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = id));


--
-- Name: projects Users read their own projects; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users read their own projects" ON public.projects FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: segmentation_results Users read their own results; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users read their own results" ON public.segmentation_results FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: usage_logs Users read their own usage; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users read their own usage" ON public.usage_logs FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: user_profiles Users update their own profile; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users update their own profile" ON public.user_profiles FOR UPDATE TO authenticated USING ((( SELECT auth.uid() AS uid) = id)) WITH CHECK ((( SELECT auth.uid() AS uid) = id));


--
-- Name: projects Users update their own projects; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users update their own projects" ON public.projects FOR UPDATE TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: segmentation_results Users update their own results; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Users update their own results" ON public.segmentation_results FOR UPDATE TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));


--
-- Name: profile_invitations Workspace owners delete invitations; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Workspace owners delete invitations" ON public.profile_invitations FOR DELETE TO authenticated USING ((EXISTS ( SELECT
   FROM public.user_profiles
  WHERE ((user_profiles.id = ( SELECT auth.uid() AS uid)) AND (user_profiles.role = 'workspace_owner'::public.account_role) AND (user_profiles.state = 'active'::public.account_state)))));


--
-- Name: profiles Workspace owners delete profiles; Type: POLICY; Schema: public; Owner: postgres
--

CREATE POLICY "Workspace owners delete profiles" ON public.profiles FOR DELETE TO authenticated USING ((EXISTS ( SELECT
   FROM public.user_profiles
  WHERE ((user_profiles.id = ( SELECT auth.uid() AS uid)) AND (user_profiles.role = 'workspace_owner'::public.account_role) AND (user_profiles.state = 'active'::public.account_state)))));


--
-- Name: auth_vault; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.auth_vault ENABLE ROW LEVEL SECURITY;

--
-- Name: connections; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.connections ENABLE ROW LEVEL SECURITY;

--
-- Name: levels; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.levels ENABLE ROW LEVEL SECURITY;

--
-- Name: profile_invitations; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.profile_invitations ENABLE ROW LEVEL SECURITY;

--
-- Name: profiles; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;

--
-- Name: projects; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;

--
-- Name: rate_limit_buckets; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.rate_limit_buckets ENABLE ROW LEVEL SECURITY;

--
-- Name: segmentation_results; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.segmentation_results ENABLE ROW LEVEL SECURITY;

--
-- Name: usage_logs; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.usage_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: user_profiles; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.user_profiles ENABLE ROW LEVEL SECURITY;

--
-- Name: visitor; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.visitor ENABLE ROW LEVEL SECURITY;

--
-- Name: webhook_deliveries; Type: ROW SECURITY; Schema: public; Owner: postgres
--

ALTER TABLE public.webhook_deliveries ENABLE ROW LEVEL SECURITY;

--
-- Name: objects Accounts delete their own avatar; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Accounts delete their own avatar" ON storage.objects FOR DELETE TO authenticated USING (((bucket_id = 'avatars'::text) AND public.is_my_avatar_path(name)));


--
-- Name: objects Accounts read their own avatar objects; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Accounts read their own avatar objects" ON storage.objects FOR SELECT TO authenticated USING (((bucket_id = 'avatars'::text) AND public.is_my_avatar_path(name)));


--
-- Name: objects Accounts replace their own avatar; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Accounts replace their own avatar" ON storage.objects FOR UPDATE TO authenticated USING (((bucket_id = 'avatars'::text) AND public.is_my_avatar_path(name))) WITH CHECK (((bucket_id = 'avatars'::text) AND public.is_my_avatar_path(name)));


--
-- Name: objects Accounts upload their own avatar; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Accounts upload their own avatar" ON storage.objects FOR INSERT TO authenticated WITH CHECK (((bucket_id = 'avatars'::text) AND public.is_my_avatar_path(name)));


--
-- Name: buckets Signed-in users read the avatars bucket's settings; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Signed-in users read the avatars bucket's settings" ON storage.buckets FOR SELECT TO authenticated USING ((id = 'avatars'::text));


--
-- Name: buckets Signed-in users read the images bucket's settings; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Signed-in users read the images bucket's settings" ON storage.buckets FOR SELECT TO authenticated USING ((id = 'images'::text));


--
-- Name: objects Task owners delete their masks; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Task owners delete their masks" ON storage.objects FOR DELETE TO authenticated USING (((bucket_id = 'masks'::text) AND public.is_my_task_folder(name)));


--
-- Name: objects Task owners read their masks; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Task owners read their masks" ON storage.objects FOR SELECT TO authenticated USING (((bucket_id = 'masks'::text) AND public.is_my_task_folder(name)));


--
-- Name: objects Users delete their own images; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Users delete their own images" ON storage.objects FOR DELETE TO authenticated USING (((bucket_id = 'images'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text)));


--
-- Name: objects Users read their own images; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Users read their own images" ON storage.objects FOR SELECT TO authenticated USING (((bucket_id = 'images'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text)));


--
-- Name: objects Users replace their own images; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Users replace their own images" ON storage.objects FOR UPDATE TO authenticated USING (((bucket_id = 'images'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text))) WITH CHECK (((bucket_id = 'images'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text)));


--
-- Name: objects Users upload their own images; Type: POLICY; Schema: storage; Owner: postgres
--

CREATE POLICY "Users upload their own images" ON storage.objects FOR INSERT TO authenticated WITH CHECK (((bucket_id = 'images'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text)));


--
-- Name: supabase_realtime segmentation_results; Type: PUBLICATION TABLE; Schema: public; Owner: postgres
--

ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public.segmentation_results;


--
-- Name: SCHEMA private; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA private TO authenticated;
GRANT USAGE ON SCHEMA private TO service_role;


--
-- Name: FUNCTION account_is_active(p_user_id uuid); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.account_is_active(p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.account_is_active(p_user_id uuid) TO authenticated;
GRANT ALL ON FUNCTION private.account_is_active(p_user_id uuid) TO service_role;


--
-- Name: FUNCTION account_last_active_at(p_user_id uuid); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.account_last_active_at(p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.account_last_active_at(p_user_id uuid) TO service_role;


--
-- Name: FUNCTION assert_account_active(p_user_id uuid); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.assert_account_active(p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.assert_account_active(p_user_id uuid) TO authenticated;
GRANT ALL ON FUNCTION private.assert_account_active(p_user_id uuid) TO service_role;


--
-- Name: FUNCTION check_task_source_image(); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.check_task_source_image() FROM PUBLIC;


--
-- Name: FUNCTION claim_guest_visitor(); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.claim_guest_visitor() FROM PUBLIC;


--
-- Name: TABLE segmentation_results; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.segmentation_results TO service_role;
GRANT SELECT,DELETE ON TABLE public.segmentation_results TO authenticated;


--
-- Name: COLUMN segmentation_results.user_id; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(user_id) ON TABLE public.segmentation_results TO authenticated;


--
-- Name: COLUMN segmentation_results.project_id; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(project_id),UPDATE(project_id) ON TABLE public.segmentation_results TO authenticated;


--
-- Name: COLUMN segmentation_results.source_image_url; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(source_image_url) ON TABLE public.segmentation_results TO authenticated;


--
-- Name: COLUMN segmentation_results.text_prompt; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(text_prompt) ON TABLE public.segmentation_results TO authenticated;


--
-- Name: COLUMN segmentation_results.source_image_path; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(source_image_path) ON TABLE public.segmentation_results TO authenticated;


--
-- Name: FUNCTION close_open_task(p_task public.segmentation_results, p_status public.segmentation_status, p_error text, p_metadata jsonb); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.close_open_task(p_task public.segmentation_results, p_status public.segmentation_status, p_error text, p_metadata jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION private.close_open_task(p_task public.segmentation_results, p_status public.segmentation_status, p_error text, p_metadata jsonb) TO service_role;


--
-- Name: FUNCTION grant_trial_credits(p_user_id uuid); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.grant_trial_credits(p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.grant_trial_credits(p_user_id uuid) TO service_role;


--
-- Name: TABLE visitor; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.visitor TO service_role;
GRANT SELECT ON TABLE public.visitor TO authenticated;


--
-- Name: FUNCTION insert_visitor(p_user_id uuid, p_visitor jsonb); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.insert_visitor(p_user_id uuid, p_visitor jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION private.insert_visitor(p_user_id uuid, p_visitor jsonb) TO service_role;


--
-- Name: FUNCTION is_invitation_admin(p_user_id uuid); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.is_invitation_admin(p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.is_invitation_admin(p_user_id uuid) TO service_role;


--
-- Name: FUNCTION refuse_writes_by_inactive_accounts(); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.refuse_writes_by_inactive_accounts() FROM PUBLIC;


--
-- Name: FUNCTION require_invitation_admin(p_user_id uuid); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.require_invitation_admin(p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION private.require_invitation_admin(p_user_id uuid) TO service_role;


--
-- Name: FUNCTION sync_account_ban(); Type: ACL; Schema: private; Owner: postgres
--

REVOKE ALL ON FUNCTION private.sync_account_ban() FROM PUBLIC;


--
-- Name: FUNCTION accept_profile_invitation(p_token_hash text, p_user_id uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.accept_profile_invitation(p_token_hash text, p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.accept_profile_invitation(p_token_hash text, p_user_id uuid) TO service_role;


--
-- Name: FUNCTION accept_profile_invitation_with_notice(p_token_hash text, p_user_id uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.accept_profile_invitation_with_notice(p_token_hash text, p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.accept_profile_invitation_with_notice(p_token_hash text, p_user_id uuid) TO service_role;


--
-- Name: FUNCTION apply_level_plan(); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.apply_level_plan() FROM PUBLIC;
GRANT ALL ON FUNCTION public.apply_level_plan() TO service_role;


--
-- Name: FUNCTION apply_segmentation_webhook(p_task_id uuid, p_status text, p_delivery_id text, p_mask_url text, p_labels jsonb, p_metadata jsonb, p_credits_used integer, p_error text, p_mask_path text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.apply_segmentation_webhook(p_task_id uuid, p_status text, p_delivery_id text, p_mask_url text, p_labels jsonb, p_metadata jsonb, p_credits_used integer, p_error text, p_mask_path text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.apply_segmentation_webhook(p_task_id uuid, p_status text, p_delivery_id text, p_mask_url text, p_labels jsonb, p_metadata jsonb, p_credits_used integer, p_error text, p_mask_path text) TO service_role;


--
-- Name: FUNCTION auth_email_in_use(p_email text, p_except_user uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.auth_email_in_use(p_email text, p_except_user uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.auth_email_in_use(p_email text, p_except_user uuid) TO service_role;


--
-- Name: FUNCTION cancel_segmentation_task(task_id uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.cancel_segmentation_task(task_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.cancel_segmentation_task(task_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.cancel_segmentation_task(task_id uuid) TO service_role;


--
-- Name: FUNCTION claim_profile_invitation_deliveries(p_limit integer, p_claim_seconds integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.claim_profile_invitation_deliveries(p_limit integer, p_claim_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_profile_invitation_deliveries(p_limit integer, p_claim_seconds integer) TO service_role;


--
-- Name: FUNCTION claim_segmentation_tasks(p_max integer, p_lease_seconds integer, p_max_attempts integer, p_pending_timeout_seconds integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.claim_segmentation_tasks(p_max integer, p_lease_seconds integer, p_max_attempts integer, p_pending_timeout_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.claim_segmentation_tasks(p_max integer, p_lease_seconds integer, p_max_attempts integer, p_pending_timeout_seconds integer) TO service_role;


--
-- Name: TABLE connections; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.connections TO service_role;
GRANT DELETE ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.id; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(id) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.user_id; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(user_id) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.name; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(name) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.url; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(url) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.allow_writes; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(allow_writes) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.anon_key_hint; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(anon_key_hint) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.service_role_key_hint; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(service_role_key_hint) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.key_id; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(key_id) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.created_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(created_at) ON TABLE public.connections TO authenticated;


--
-- Name: COLUMN connections.updated_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(updated_at) ON TABLE public.connections TO authenticated;


--
-- Name: FUNCTION connection_for_relay(p_user_id uuid, p_name text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.connection_for_relay(p_user_id uuid, p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.connection_for_relay(p_user_id uuid, p_name text) TO service_role;


--
-- Name: FUNCTION create_profile_invitation(p_admin uuid, p_profile_id uuid, p_token_hash text, p_email text, p_token_encrypted text, p_expires_in_days integer, p_replace boolean, p_send_email boolean, p_claim_seconds integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.create_profile_invitation(p_admin uuid, p_profile_id uuid, p_token_hash text, p_email text, p_token_encrypted text, p_expires_in_days integer, p_replace boolean, p_send_email boolean, p_claim_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.create_profile_invitation(p_admin uuid, p_profile_id uuid, p_token_hash text, p_email text, p_token_encrypted text, p_expires_in_days integer, p_replace boolean, p_send_email boolean, p_claim_seconds integer) TO service_role;


--
-- Name: FUNCTION delete_my_account(); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.delete_my_account() FROM PUBLIC;
GRANT ALL ON FUNCTION public.delete_my_account() TO authenticated;
GRANT ALL ON FUNCTION public.delete_my_account() TO service_role;


--
-- Name: FUNCTION expire_segmentation_leases(p_max_attempts integer, p_pending_timeout_seconds integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.expire_segmentation_leases(p_max_attempts integer, p_pending_timeout_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.expire_segmentation_leases(p_max_attempts integer, p_pending_timeout_seconds integer) TO service_role;


--
-- Name: FUNCTION extend_segmentation_lease(p_task_id uuid, p_lease_seconds integer, p_attempt integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.extend_segmentation_lease(p_task_id uuid, p_lease_seconds integer, p_attempt integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.extend_segmentation_lease(p_task_id uuid, p_lease_seconds integer, p_attempt integer) TO service_role;


--
-- Name: FUNCTION grant_account_role(p_email text, p_role public.account_role); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.grant_account_role(p_email text, p_role public.account_role) FROM PUBLIC;
GRANT ALL ON FUNCTION public.grant_account_role(p_email text, p_role public.account_role) TO service_role;


--
-- Name: FUNCTION grant_monthly_credits(p_month date, p_limit integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.grant_monthly_credits(p_month date, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.grant_monthly_credits(p_month date, p_limit integer) TO service_role;


--
-- Name: FUNCTION handle_new_user(); Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON FUNCTION public.handle_new_user() TO anon;
GRANT ALL ON FUNCTION public.handle_new_user() TO authenticated;
GRANT ALL ON FUNCTION public.handle_new_user() TO service_role;


--
-- Name: FUNCTION handle_user_updated(); Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON FUNCTION public.handle_user_updated() TO anon;
GRANT ALL ON FUNCTION public.handle_user_updated() TO authenticated;
GRANT ALL ON FUNCTION public.handle_user_updated() TO service_role;


--
-- Name: FUNCTION is_invitation_admin(uid uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.is_invitation_admin(uid uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.is_invitation_admin(uid uuid) TO authenticated;
GRANT ALL ON FUNCTION public.is_invitation_admin(uid uuid) TO service_role;


--
-- Name: FUNCTION is_my_avatar_path(object_name text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.is_my_avatar_path(object_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.is_my_avatar_path(object_name text) TO authenticated;
GRANT ALL ON FUNCTION public.is_my_avatar_path(object_name text) TO service_role;


--
-- Name: FUNCTION is_my_task_folder(object_name text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.is_my_task_folder(object_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.is_my_task_folder(object_name text) TO authenticated;
GRANT ALL ON FUNCTION public.is_my_task_folder(object_name text) TO service_role;


--
-- Name: FUNCTION jsonb_array_union(a jsonb, b jsonb); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.jsonb_array_union(a jsonb, b jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.jsonb_array_union(a jsonb, b jsonb) TO service_role;


--
-- Name: FUNCTION jsonb_has_clear_credential(payload jsonb); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.jsonb_has_clear_credential(payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.jsonb_has_clear_credential(payload jsonb) TO service_role;


--
-- Name: FUNCTION link_signed_in_device(p_user_id uuid, p_guest_user_id uuid, p_ip inet); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.link_signed_in_device(p_user_id uuid, p_guest_user_id uuid, p_ip inet) FROM PUBLIC;
GRANT ALL ON FUNCTION public.link_signed_in_device(p_user_id uuid, p_guest_user_id uuid, p_ip inet) TO service_role;


--
-- Name: FUNCTION link_visitor_to_user(p_user_id uuid, p_visitor_id uuid, p_guest_user_id uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.link_visitor_to_user(p_user_id uuid, p_visitor_id uuid, p_guest_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.link_visitor_to_user(p_user_id uuid, p_visitor_id uuid, p_guest_user_id uuid) TO service_role;


--
-- Name: FUNCTION list_connections(); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.list_connections() FROM PUBLIC;
GRANT ALL ON FUNCTION public.list_connections() TO authenticated;
GRANT ALL ON FUNCTION public.list_connections() TO service_role;


--
-- Name: FUNCTION list_profile_invitations(p_admin uuid, p_profile_id uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.list_profile_invitations(p_admin uuid, p_profile_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.list_profile_invitations(p_admin uuid, p_profile_id uuid) TO service_role;


--
-- Name: FUNCTION log_storage_upload(); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.log_storage_upload() FROM PUBLIC;


--
-- Name: FUNCTION prepare_guest_signup(p_key text, p_limit integer, p_window_secs integer, p_visitor jsonb); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.prepare_guest_signup(p_key text, p_limit integer, p_window_secs integer, p_visitor jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.prepare_guest_signup(p_key text, p_limit integer, p_window_secs integer, p_visitor jsonb) TO service_role;


--
-- Name: FUNCTION preview_profile_invitation(p_token_hash text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.preview_profile_invitation(p_token_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.preview_profile_invitation(p_token_hash text) TO service_role;


--
-- Name: FUNCTION profile_invitation_acceptance_notice(p_token_hash text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.profile_invitation_acceptance_notice(p_token_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.profile_invitation_acceptance_notice(p_token_hash text) TO service_role;


--
-- Name: TABLE profile_invitations; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.profile_invitations TO service_role;
GRANT DELETE ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.id; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(id) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.profile_id; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(profile_id) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.email; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(email) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.status; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(status) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.invited_by; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(invited_by) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.created_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(created_at) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.expires_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(expires_at) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.accepted_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(accepted_at) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.accepted_by; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(accepted_by) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.revoked_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(revoked_at) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.revoked_by; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(revoked_by) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.delivery_status; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(delivery_status) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.delivery_attempts; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(delivery_attempts) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.delivery_error; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(delivery_error) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.delivery_next_attempt_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(delivery_next_attempt_at) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: COLUMN profile_invitations.delivery_sent_at; Type: ACL; Schema: public; Owner: postgres
--

GRANT SELECT(delivery_sent_at) ON TABLE public.profile_invitations TO authenticated;


--
-- Name: FUNCTION profile_invitation_mail_context(invitation public.profile_invitations); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.profile_invitation_mail_context(invitation public.profile_invitations) FROM PUBLIC;
GRANT ALL ON FUNCTION public.profile_invitation_mail_context(invitation public.profile_invitations) TO service_role;


--
-- Name: FUNCTION profile_invitation_to_json(invitation public.profile_invitations); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.profile_invitation_to_json(invitation public.profile_invitations) FROM PUBLIC;
GRANT ALL ON FUNCTION public.profile_invitation_to_json(invitation public.profile_invitations) TO service_role;


--
-- Name: FUNCTION profile_invitations_status_transition(); Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON FUNCTION public.profile_invitations_status_transition() TO anon;
GRANT ALL ON FUNCTION public.profile_invitations_status_transition() TO authenticated;
GRANT ALL ON FUNCTION public.profile_invitations_status_transition() TO service_role;


--
-- Name: FUNCTION purge_expired_guests(p_now timestamp with time zone, p_limit integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.purge_expired_guests(p_now timestamp with time zone, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_expired_guests(p_now timestamp with time zone, p_limit integer) TO service_role;


--
-- Name: FUNCTION purge_idle_rate_limit_buckets(p_now timestamp with time zone); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.purge_idle_rate_limit_buckets(p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_idle_rate_limit_buckets(p_now timestamp with time zone) TO service_role;


--
-- Name: FUNCTION purge_old_segmentation_results(p_keep_days integer, p_limit integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.purge_old_segmentation_results(p_keep_days integer, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_old_segmentation_results(p_keep_days integer, p_limit integer) TO service_role;


--
-- Name: FUNCTION purge_old_webhook_deliveries(p_keep_days integer, p_limit integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.purge_old_webhook_deliveries(p_keep_days integer, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.purge_old_webhook_deliveries(p_keep_days integer, p_limit integer) TO service_role;


--
-- Name: FUNCTION queue_profile_invitation_send(p_invitation_id uuid, p_claim_seconds integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.queue_profile_invitation_send(p_invitation_id uuid, p_claim_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.queue_profile_invitation_send(p_invitation_id uuid, p_claim_seconds integer) TO service_role;


--
-- Name: FUNCTION record_guest_visitor(p_user_id uuid, p_visitor jsonb); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.record_guest_visitor(p_user_id uuid, p_visitor jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.record_guest_visitor(p_user_id uuid, p_visitor jsonb) TO service_role;


--
-- Name: FUNCTION record_profile_invitation_delivery(p_invitation_id uuid, p_delivery_key text, p_sent boolean, p_error text, p_permanent boolean, p_message_id text); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.record_profile_invitation_delivery(p_invitation_id uuid, p_delivery_key text, p_sent boolean, p_error text, p_permanent boolean, p_message_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.record_profile_invitation_delivery(p_invitation_id uuid, p_delivery_key text, p_sent boolean, p_error text, p_permanent boolean, p_message_id text) TO service_role;


--
-- Name: FUNCTION release_task_credit(); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.release_task_credit() FROM PUBLIC;
GRANT ALL ON FUNCTION public.release_task_credit() TO service_role;


--
-- Name: FUNCTION resend_profile_invitation(p_admin uuid, p_profile_id uuid, p_claim_seconds integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.resend_profile_invitation(p_admin uuid, p_profile_id uuid, p_claim_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.resend_profile_invitation(p_admin uuid, p_profile_id uuid, p_claim_seconds integer) TO service_role;


--
-- Name: FUNCTION reserve_task_credit(); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.reserve_task_credit() FROM PUBLIC;
GRANT ALL ON FUNCTION public.reserve_task_credit() TO service_role;


--
-- Name: FUNCTION revoke_profile_invitation(p_admin uuid, p_invitation_id uuid); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.revoke_profile_invitation(p_admin uuid, p_invitation_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.revoke_profile_invitation(p_admin uuid, p_invitation_id uuid) TO service_role;


--
-- Name: FUNCTION save_connection(p_user_id uuid, p_name text, p_url text, p_anon_key_encrypted text, p_service_role_key_encrypted text, p_anon_key_hint text, p_service_role_key_hint text, p_key_id text, p_key_binding smallint, p_allow_writes boolean); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.save_connection(p_user_id uuid, p_name text, p_url text, p_anon_key_encrypted text, p_service_role_key_encrypted text, p_anon_key_hint text, p_service_role_key_hint text, p_key_id text, p_key_binding smallint, p_allow_writes boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.save_connection(p_user_id uuid, p_name text, p_url text, p_anon_key_encrypted text, p_service_role_key_encrypted text, p_anon_key_hint text, p_service_role_key_hint text, p_key_id text, p_key_binding smallint, p_allow_writes boolean) TO service_role;


--
-- Name: FUNCTION take_rate_limit_token(p_key text, p_limit integer, p_window_secs integer); Type: ACL; Schema: public; Owner: postgres
--

REVOKE ALL ON FUNCTION public.take_rate_limit_token(p_key text, p_limit integer, p_window_secs integer) FROM PUBLIC;
GRANT ALL ON FUNCTION public.take_rate_limit_token(p_key text, p_limit integer, p_window_secs integer) TO service_role;


--
-- Name: FUNCTION update_updated_at(); Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON FUNCTION public.update_updated_at() TO anon;
GRANT ALL ON FUNCTION public.update_updated_at() TO authenticated;
GRANT ALL ON FUNCTION public.update_updated_at() TO service_role;


--
-- Name: TABLE auth_vault; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.auth_vault TO service_role;
GRANT SELECT ON TABLE public.auth_vault TO authenticated;


--
-- Name: TABLE levels; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.levels TO service_role;
GRANT SELECT ON TABLE public.levels TO anon;
GRANT SELECT ON TABLE public.levels TO authenticated;


--
-- Name: TABLE profiles; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.profiles TO service_role;
GRANT SELECT,DELETE ON TABLE public.profiles TO authenticated;


--
-- Name: COLUMN profiles.first_name; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(first_name),UPDATE(first_name) ON TABLE public.profiles TO authenticated;


--
-- Name: COLUMN profiles.last_name; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(last_name),UPDATE(last_name) ON TABLE public.profiles TO authenticated;


--
-- Name: COLUMN profiles.email; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(email),UPDATE(email) ON TABLE public.profiles TO authenticated;


--
-- Name: TABLE projects; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.projects TO service_role;
GRANT SELECT,DELETE ON TABLE public.projects TO authenticated;


--
-- Name: COLUMN projects.user_id; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(user_id) ON TABLE public.projects TO authenticated;


--
-- Name: COLUMN projects.name; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(name),UPDATE(name) ON TABLE public.projects TO authenticated;


--
-- Name: COLUMN projects.description; Type: ACL; Schema: public; Owner: postgres
--

GRANT INSERT(description),UPDATE(description) ON TABLE public.projects TO authenticated;


--
-- Name: TABLE rate_limit_buckets; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.rate_limit_buckets TO service_role;


--
-- Name: TABLE usage_logs; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.usage_logs TO service_role;
GRANT SELECT ON TABLE public.usage_logs TO authenticated;


--
-- Name: TABLE user_profiles; Type: ACL; Schema: public; Owner: postgres
--

GRANT REFERENCES,TRIGGER ON TABLE public.user_profiles TO anon;
GRANT SELECT,REFERENCES,TRIGGER ON TABLE public.user_profiles TO authenticated;
GRANT ALL ON TABLE public.user_profiles TO service_role;


--
-- Name: COLUMN user_profiles.username; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(username) ON TABLE public.user_profiles TO authenticated;


--
-- Name: COLUMN user_profiles.full_name; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(full_name) ON TABLE public.user_profiles TO authenticated;


--
-- Name: COLUMN user_profiles.display_name; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(display_name) ON TABLE public.user_profiles TO authenticated;


--
-- Name: COLUMN user_profiles.avatar_url; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(avatar_url) ON TABLE public.user_profiles TO authenticated;


--
-- Name: COLUMN user_profiles.bio; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(bio) ON TABLE public.user_profiles TO authenticated;


--
-- Name: COLUMN user_profiles.locale; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(locale) ON TABLE public.user_profiles TO authenticated;


--
-- Name: COLUMN user_profiles.timezone; Type: ACL; Schema: public; Owner: postgres
--

GRANT UPDATE(timezone) ON TABLE public.user_profiles TO authenticated;


--
-- Name: TABLE webhook_deliveries; Type: ACL; Schema: public; Owner: postgres
--

GRANT ALL ON TABLE public.webhook_deliveries TO service_role;


--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: public; Owner: postgres
--

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES  TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES  TO authenticated;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES  TO service_role;


--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: public; Owner: postgres
--

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS  TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS  TO authenticated;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON FUNCTIONS  TO service_role;


--
-- Name: DEFAULT PRIVILEGES FOR TABLES; Type: DEFAULT ACL; Schema: public; Owner: postgres
--

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES  TO anon;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES  TO authenticated;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES  TO service_role;


--
-- PostgreSQL database dump complete
--
