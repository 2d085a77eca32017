CREATE TABLE `account_members` (
	`account_id` text NOT NULL,
	`subject` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`account_id`, `subject`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`concurrent_max` integer NOT NULL,
	`calls_per_minute` integer NOT NULL,
	`daily_calls_max` integer NOT NULL,
	`daily_minutes_max` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`stream_url` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `agents_account` ON `agents` (`account_id`,`id`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`last8` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text,
	`revoked_at` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_account` ON `api_keys` (`account_id`,`id`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`agent_id` text NOT NULL,
	`phone_number_id` text NOT NULL,
	`max_concurrent_calls` integer NOT NULL,
	`retries_per_contact` integer NOT NULL,
	`retry_delay_seconds` integer NOT NULL,
	`default_country` text,
	`scheduled_at` text,
	`started_at` text,
	`completed_at` text,
	`created_by` text NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`duplicates_skipped` integer DEFAULT 0 NOT NULL,
	`total` integer NOT NULL,
	`stat_pending` integer NOT NULL,
	`stat_originated` integer DEFAULT 0 NOT NULL,
	`stat_connected` integer DEFAULT 0 NOT NULL,
	`stat_completed` integer DEFAULT 0 NOT NULL,
	`stat_failed` integer DEFAULT 0 NOT NULL,
	`stat_cancelled` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `campaigns_account` ON `campaigns` (`account_id`,`id`);--> statement-breakpoint
CREATE INDEX `campaigns_account_status` ON `campaigns` (`account_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `campaigns_number` ON `campaigns` (`phone_number_id`);--> statement-breakpoint
CREATE INDEX `campaigns_agent` ON `campaigns` (`agent_id`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` text PRIMARY KEY NOT NULL,
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
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_campaign_seq` ON `contacts` (`campaign_id`,`seq`);--> statement-breakpoint
CREATE INDEX `contacts_campaign_status_seq` ON `contacts` (`campaign_id`,`status`,`seq`);--> statement-breakpoint
CREATE TABLE `phone_numbers` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`e164` text NOT NULL,
	`credentials_id` text NOT NULL,
	`provider` text NOT NULL,
	`agent_id` text,
	`inbound_enabled` integer NOT NULL,
	`outbound_enabled` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`credentials_id`) REFERENCES `telephony_providers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `phone_numbers_account_e164` ON `phone_numbers` (`account_id`,`e164`);--> statement-breakpoint
CREATE INDEX `phone_numbers_credentials` ON `phone_numbers` (`credentials_id`);--> statement-breakpoint
CREATE TABLE `telephony_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`provider` text NOT NULL,
	`name` text,
	`credentials` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `providers_account` ON `telephony_providers` (`account_id`,`id`);