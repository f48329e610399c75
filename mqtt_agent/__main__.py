from mqtt_agent.cli import main

raise SystemExit(main())
