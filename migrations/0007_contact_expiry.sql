-- Contact expiry: the upload's expires_at per contact (RFC 3339, UTC); a contact is not dialled from then on.
ALTER TABLE `contacts` ADD `expires_at` text;