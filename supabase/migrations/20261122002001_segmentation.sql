-- Seed 002's segmentation layer: projects, segmentation results (one row per inference task,
-- its id is the task id the inference backend reports back) and the usage ledger.
--
-- Access model. Every table has row-level security, owner-only as seed 002's policy table says.
-- On top of that, column privileges keep the server's columns for the server: a user files a
-- task (source image, prompt, project) and reads its progress, but status, mask, labels and the
-- charge are written only by the inference webhook (service role). Otherwise a user could mark
-- their own task `done` before the webhook arrives and never be charged.
-- Supabase grants anon and authenticated ALL on new public tables by default; each table below
-- revokes that and grants back exactly what the API needs (TRUNCATE would ignore RLS).

create type public.segmentation_status as enum ('pending', 'processing', 'done', 'error');
create type public.usage_action as enum ('segmentation', 'upload');

-- ---------------------------------------------------------------------------------------------
-- projects
-- ---------------------------------------------------------------------------------------------
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.user_profiles (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  description text check (description is null or char_length(description) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Referenced by segmentation_results (project_id, user_id): a result can be filed only under
  -- a project of its own user.
  constraint projects_id_user_id_key unique (id, user_id)
);

create index projects_user_id_created_at_idx on public.projects (user_id, created_at desc);

create trigger projects_updated_at
  before update on public.projects
  for each row execute function public.update_updated_at();

alter table public.projects enable row level security;

create policy "Users read their own projects"
  on public.projects for select to authenticated
  using ((select auth.uid()) = user_id);
create policy "Users create their own projects"
  on public.projects for insert to authenticated
  with check ((select auth.uid()) = user_id);
create policy "Users update their own projects"
  on public.projects for update to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);
create policy "Users delete their own projects"
  on public.projects for delete to authenticated
  using ((select auth.uid()) = user_id);

revoke all on public.projects from anon, authenticated;
grant select, delete on public.projects to authenticated;
grant insert (user_id, name, description), update (name, description)
  on public.projects to authenticated;

-- ---------------------------------------------------------------------------------------------
-- segmentation_results
-- ---------------------------------------------------------------------------------------------
create table public.segmentation_results (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.user_profiles (id) on delete cascade,
  project_id uuid,
  source_image_url text not null
    check (char_length(source_image_url) <= 2048 and source_image_url ~ '^https?://'),
  mask_image_url text
    check (mask_image_url is null or (char_length(mask_image_url) <= 2048 and mask_image_url ~ '^https?://')),
  text_prompt text check (text_prompt is null or char_length(text_prompt) <= 2000),
  status public.segmentation_status not null default 'pending',
  labels jsonb check (labels is null or jsonb_typeof(labels) = 'array'),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  error text check (error is null or char_length(error) <= 2000),
  -- The charge, set once, in the transaction that first moves the task to `done`:
  -- credits_charged is what was taken from the balance, credits_shortfall what the balance
  -- could not cover (see public.apply_segmentation_webhook).
  charged_at timestamptz,
  credits_charged integer check (credits_charged >= 0),
  credits_shortfall integer check (credits_shortfall >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The project, when there is one, belongs to the same user. Deleting it keeps the result and
  -- only clears project_id (a column list for SET NULL needs Postgres 15).
  constraint segmentation_results_project_fkey foreign key (project_id, user_id)
    references public.projects (id, user_id) on delete set null (project_id),
  constraint segmentation_results_charge_complete check (
    (charged_at is null and credits_charged is null and credits_shortfall is null)
    or (status = 'done' and charged_at is not null and credits_charged is not null
        and credits_shortfall is not null)
  )
);

create index segmentation_results_user_id_created_at_idx
  on public.segmentation_results (user_id, created_at desc);
-- Listing a project's results, and clearing project_id when a project is deleted.
create index segmentation_results_project_id_idx
  on public.segmentation_results (project_id) where project_id is not null;

create trigger segmentation_results_updated_at
  before update on public.segmentation_results
  for each row execute function public.update_updated_at();

alter table public.segmentation_results enable row level security;

create policy "Users read their own results"
  on public.segmentation_results for select to authenticated
  using ((select auth.uid()) = user_id);
create policy "Users create their own results"
  on public.segmentation_results for insert to authenticated
  with check ((select auth.uid()) = user_id);
create policy "Users update their own results"
  on public.segmentation_results for update to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);
create policy "Users delete their own results"
  on public.segmentation_results for delete to authenticated
  using ((select auth.uid()) = user_id);

-- A user files a task and may move it between their projects; everything else is the server's.
revoke all on public.segmentation_results from anon, authenticated;
grant select, delete on public.segmentation_results to authenticated;
grant insert (user_id, project_id, source_image_url, text_prompt), update (project_id)
  on public.segmentation_results to authenticated;

-- Realtime (seed 002): clients subscribe to their tasks' progress; Realtime applies the select
-- policy above. The publication exists on every Supabase project; create it where it does not
-- (a plain Postgres) so this migration applies unchanged everywhere.
do $$
begin
  if not exists (select from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;

alter publication supabase_realtime add table public.segmentation_results;

-- ---------------------------------------------------------------------------------------------
-- usage_logs: the credit ledger. Written only by the server (service role, which bypasses RLS,
-- so it needs no insert policy); users read their own entries.
-- ---------------------------------------------------------------------------------------------
create table public.usage_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.user_profiles (id) on delete cascade,
  action public.usage_action not null,
  credits_used integer not null check (credits_used >= 0),
  -- The result that was charged; the ledger outlives a deleted result.
  result_id uuid references public.segmentation_results (id) on delete set null,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now()
);

create index usage_logs_user_id_created_at_idx on public.usage_logs (user_id, created_at desc);
create index usage_logs_result_id_idx on public.usage_logs (result_id);
-- A segmentation is charged at most once, whatever the code above the database does.
create unique index usage_logs_one_segmentation_charge_per_result
  on public.usage_logs (result_id) where action = 'segmentation';

alter table public.usage_logs enable row level security;

create policy "Users read their own usage"
  on public.usage_logs for select to authenticated
  using ((select auth.uid()) = user_id);

revoke all on public.usage_logs from anon, authenticated;
grant select on public.usage_logs to authenticated;
