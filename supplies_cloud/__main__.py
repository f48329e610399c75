from supplies_cloud.cli import main

raise SystemExit(main())
