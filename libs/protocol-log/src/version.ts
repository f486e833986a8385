/** Written in `#Software`; kept in step with package.json. */
export const SOFTWARE = 'mailbus 0.1.0';
