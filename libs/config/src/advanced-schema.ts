import { z } from 'zod';

/**
 * The connector's Advanced tab (seed 002, DESIGN 8): "Request ETRN/TURN when
 * sending messages", "from a different server" with a connection time, and the
 * "Issue ETRN" domains. Cross-field rules live in resolve-advanced.ts.
 */
export const advancedSchema = z
  .object({
    request: z
      .enum(['none', 'etrn', 'turn'])
      .default('none')
      .describe('"Request ETRN/TURN when sending messages": none | etrn | turn'),
    domains: z
      .array(z.string().transform((s) => s.trim().toLowerCase()))
      .default([])
      .describe('"Issue ETRN" for these domains (ATRN with request: turn)'),
    server: z
      .string()
      .optional()
      .describe(
        '"Request ETRN/TURN from a different server": FQDN or [IP], optional :port (smart-host syntax)',
      ),
    schedule: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe("with server: its connection time, in the delivery schedule's grammar"),
  })
  .strict();

export type AdvancedConfig = z.output<typeof advancedSchema>;
