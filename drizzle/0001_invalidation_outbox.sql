CREATE TABLE "cache_invalidation_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"generation_keys" text[] NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone
);
