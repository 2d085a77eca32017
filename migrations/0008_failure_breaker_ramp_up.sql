-- The failure breaker (pause when too many recent dials failed; NULL turns it off) and ramp-up after each start or resume.
ALTER TABLE `campaigns` ADD `pause_on_failure_rate` real DEFAULT 0.8;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `failure_window` integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `ramp_up_seconds` integer DEFAULT 0 NOT NULL;