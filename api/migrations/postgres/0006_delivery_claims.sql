-- Two or more `yishi serve` on one catalog (issue 22): a server claims a pending delivery
-- before sending it (claimed_by: the server's id; claimed_until: the lease's end, epoch
-- milliseconds UTC) with one conditional UPDATE, so only one of them sends it; the claim
-- is released after the tick's tries, and a crashed server's claim lapses at its lease's end.

ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claimed_until BIGINT;
