-- A document or pack alert's e-mail attaches its file (issue 22): which one, as
-- `document:2025:3` or `pack:2025:3`; the file itself is made when the mail is sent, in the
-- subscriber's scope as it is then. NULL: nothing attached (other conditions and channels).

ALTER TABLE deliveries ADD COLUMN attachment TEXT;
