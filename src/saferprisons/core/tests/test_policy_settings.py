def test_admin_sees_policy_settings_with_values_and_sources(estate, client, settings):
    settings.KIOSK_IDLE_TIMEOUT_SECONDS = 95
    client.force_login(estate["admin"])
    body = client.get("/policy-settings/").content.decode()
    assert "KIOSK_IDLE_TIMEOUT_SECONDS" in body and "95 seconds" in body
    client.force_login(estate["officer"])
    assert client.get("/policy-settings/").status_code == 403
