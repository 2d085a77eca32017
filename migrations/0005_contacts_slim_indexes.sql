-- Fewer index writes per contact. The opaque contact id stops being the primary key: nothing looks a
-- contact up by it, yet its index cost every insert. Contacts are found by (campaign_id, seq), which
-- stays unique. The status index now holds only contacts that have left `pending`, so a new
-- campaign's 100k pending rows write no entries there; pending contacts are read in seq order along
-- (campaign_id, seq), and queries for a settled status add `status <> 'pending'` so SQLite may use it.
CREATE TABLE `contacts_rebuilt` (
	`id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`account_id` text NOT NULL,
	`seq` integer NOT NULL,
	`row` integer NOT NULL,
	`phone_number` text NOT NULL,
	`custom_fields` text DEFAULT '{}' NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`outcome` text,
	`last_error` text,
	`call_id` text,
	`next_attempt_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`timezone` text
);
--> statement-breakpoint
INSERT INTO `contacts_rebuilt` (`id`, `campaign_id`, `account_id`, `seq`, `row`, `phone_number`, `custom_fields`, `status`, `attempts`, `outcome`,
	`last_error`, `call_id`, `next_attempt_at`, `created_at`, `updated_at`, `timezone`)
SELECT `id`, `campaign_id`, `account_id`, `seq`, `row`, `phone_number`, `custom_fields`, `status`, `attempts`, `outcome`,
	`last_error`, `call_id`, `next_attempt_at`, `created_at`, `updated_at`, `timezone` FROM `contacts`;
--> statement-breakpoint
DROP TABLE `contacts`;
--> statement-breakpoint
ALTER TABLE `contacts_rebuilt` RENAME TO `contacts`;
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_campaign_seq` ON `contacts` (`campaign_id`,`seq`);
--> statement-breakpoint
CREATE INDEX `contacts_campaign_settled` ON `contacts` (`campaign_id`,`status`,`seq`) WHERE `status` <> 'pending';
