app_name = "acct"
urlpatterns: list = []
