print("gatewayctl")
