-- Contacts keep the student's chat sealed (see package seal): a copy of the
-- database alone does not tell whom to message. SQL cannot seal, so chat_id
-- stays for chats written before this migration (and by a bot not yet
-- upgraded); the bot seals those into chat_sealed and empties chat_id when it
-- starts (Store.SealPlainContacts). A contact nothing can be sent to (the
-- student said /stop or blocked the bot) keeps no chat at all.

-- +goose Up
ALTER TABLE contacts
    ALTER COLUMN chat_id DROP NOT NULL,
    ADD COLUMN chat_sealed bytea NULL;
UPDATE contacts SET chat_id = NULL WHERE opted_out OR unreachable;

-- +goose Down
-- Sealed chats cannot be read back in SQL: those students count as
-- unreachable until their next idea stores their chat again.
UPDATE contacts SET chat_id = 0, unreachable = true WHERE chat_id IS NULL;
ALTER TABLE contacts
    DROP COLUMN chat_sealed,
    ALTER COLUMN chat_id SET NOT NULL;
