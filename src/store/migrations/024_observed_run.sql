-- A job's observed run is one value with its data ("run": "Idle" | {"Running": {"since"}} |
-- {"Completed": {"at"}} | {"Crashed": {"at", "ran_seconds"}}) instead of four optional fields.
UPDATE job_state SET state = json_remove(json_set(state, '$.run', CASE
    WHEN json_type(state, '$.running_since') = 'integer'
        THEN json_object('Running', json_object('since', json_extract(state, '$.running_since')))
    WHEN json_type(state, '$.crashed_at') = 'integer'
        THEN json_object('Crashed', json_object('at', json_extract(state, '$.crashed_at'),
                                                'ran_seconds', COALESCE(json_extract(state, '$.crash_ran_seconds'), 0)))
    WHEN json_type(state, '$.completed_at') = 'integer'
        THEN json_object('Completed', json_object('at', json_extract(state, '$.completed_at')))
    ELSE 'Idle' END),
    '$.running_since', '$.crashed_at', '$.crash_ran_seconds', '$.completed_at',
    '$.acked_anomaly_key', '$.snoozed_until', '$.stopped_on_purpose', '$.stopped_at')
WHERE json_valid(state);
