-- The benchmark's tenant project: a table tenant-proxy relays, 1000 rows of about 1 KiB each,
-- so `?select=*` is about 1 MB of JSON and `?select=*&limit=3` a small answer.
create table public.bench_items (
  id integer primary key,
  name text not null,
  payload text not null
);

alter table public.bench_items enable row level security;
-- Nothing for anon or authenticated: only the tenant's service key (BYPASSRLS) reads it.

insert into public.bench_items (id, name, payload)
select i, 'item-' || i, repeat(md5(i::text), 31)
from generate_series(1, 1000) as i;
