CREATE TABLE `dnc_numbers` (
	`account_id` text NOT NULL,
	`phone_number` text NOT NULL,
	`reason` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`account_id`, `phone_number`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `campaigns` ADD `source_campaign_id` text;
