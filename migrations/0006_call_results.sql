-- Call results: what the agent reports per contact (its latest result, the disposition for filtering, callbacks scheduled), and
-- the campaign settings that act on results (declared dispositions, counts by disposition, retry_on, the voicemail action).
ALTER TABLE `campaigns` ADD `dispositions` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `disposition_stats` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `retry_on` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `voicemail_action` text DEFAULT 'agent' NOT NULL;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `voicemail_message` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `voicemail_audio_url` text;--> statement-breakpoint
ALTER TABLE `contacts` ADD `result` text;--> statement-breakpoint
ALTER TABLE `contacts` ADD `disposition` text;--> statement-breakpoint
ALTER TABLE `contacts` ADD `callbacks` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `contacts_campaign_disposition` ON `contacts` (`campaign_id`,`disposition`,`seq`) WHERE "contacts"."disposition" IS NOT NULL;