-- A task its owner cancelled (public.cancel_segmentation_task, 20261207600100_task_leases.sql).
-- On its own: a value added to an enum cannot be used in the transaction that adds it.
alter type public.segmentation_status add value if not exists 'cancelled';
