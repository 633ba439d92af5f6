from channels.telegram.app import main

main()
