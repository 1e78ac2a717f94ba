def test_condition_page_is_public(client, condition):
    response = client.get("/conditions/muscle-twitches/")
    assert response.status_code == 200
    assert "Muscle twitches" in response.text
