"""Operations: the monitor that reads every service's `/health` (`infra.health`), and the
delivery of flow alerts to subscribers."""
