-- Subscriptions to alerts (issue 22): an account (user name or token label, with the role
-- and scope it had when it subscribed) watches a condition in its own scope and is told on
-- a channel. condition: overdue | satisfaction_below | no_meeting; threshold: the
-- satisfaction rate in percent (satisfaction_below only); channel: in_app | webhook |
-- email; target: the webhook URL or the e-mail address (empty for in_app). Times are
-- epoch milliseconds, UTC.

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_code TEXT,
    condition TEXT NOT NULL,
    threshold DOUBLE PRECISION,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_account ON subscriptions (account);

-- One row per alert a subscription produced: alert_key names the condition, scope, period
-- and the items (a new item set is a new key), and UNIQUE (subscription_id, alert_key)
-- makes a delivery happen at most once across ticks and restarts. status: pending |
-- delivered | failed (gave up after the last attempt); attempts counts the tries.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    alert_key TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (subscription_id, alert_key)
);
CREATE INDEX deliveries_status ON deliveries (status);
